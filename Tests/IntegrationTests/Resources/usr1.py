# Says so each time SIGUSR1 arrives (as a server reopening its logs would), and keeps running.
import os, signal, time

def usr1(*_):
    print(f"got USR1 {os.getpid()}", flush=True)

signal.signal(signal.SIGUSR1, usr1)
print(f"ready {os.getpid()}", flush=True)
while True:
    time.sleep(1)
