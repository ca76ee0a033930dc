# A queue worker (one copy per instance): says it is up, then waits.
import os, time

print(f"worker up {os.getpid()}", flush=True)
while True:
    time.sleep(1)
