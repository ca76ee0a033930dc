# A server that drains on SIGTERM: it keeps printing for about a second, then
# exits 0, like gunicorn finishing its requests.
import os, signal, sys, time

def drain(*_):
    print(f"draining {os.getpid()}", flush=True)
    for i in range(5):
        time.sleep(0.2)
        print(f"drain {i}", flush=True)
    print(f"drained {os.getpid()}", flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, drain)
print(f"ready {os.getpid()}", flush=True)
while True:
    time.sleep(1)
