# Says so when SIGTERM arrives, then exits 0.
import os, signal, sys, time

def term(*_):
    print(f"got TERM {os.getpid()}", flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, term)
print(f"ready {os.getpid()}", flush=True)
while True:
    time.sleep(1)
