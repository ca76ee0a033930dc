# A server that drains on SIGTERM, like gunicorn finishing its requests: it
# says so, waits until the test creates the file `release` (in the working
# directory), then prints its last lines and exits 0. The test stops swiftman
# before releasing it, so those lines are still in the pipe when the group's
# last process has exited: only a drain at the group's end relays them in time.
import os, signal, sys, time

def drain(*_):
    print(f"draining {os.getpid()}", flush=True)
    while not os.path.exists("release"):
        time.sleep(0.02)
    for i in range(5):
        print(f"drain {i}", flush=True)
    print(f"drained {os.getpid()}", flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, drain)
print(f"ready {os.getpid()}", flush=True)
while True:
    time.sleep(1)
