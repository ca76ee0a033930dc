# A program that ignores SIGTERM: only SIGKILL stops it.
import os, signal, time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
print(f"ignoring {os.getpid()}", flush=True)
while True:
    time.sleep(1)
