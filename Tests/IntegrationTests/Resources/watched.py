# A server for the --watch tests: says `up PID` (and what `version.txt`
# holds, if there is one) when it starts; on SIGTERM says `stopping PID`
# and exits 0, so the test can see the old group gone before the new one.
import os, signal, sys, time

def stop(*_):
    print(f"stopping {os.getpid()}", flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
version = open("version.txt").read().strip() if os.path.exists("version.txt") else "none"
print(f"up {os.getpid()} {version}", flush=True)
while True:
    time.sleep(1)
