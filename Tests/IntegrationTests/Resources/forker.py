# A pre-fork server: a master and N workers, all in the instance's group.
# Each line is one write(2), so lines from the processes never interleave.
import os, sys, time

def say(text):
    os.write(1, (text + "\n").encode())

count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
for n in range(count):
    if os.fork() == 0:
        say(f"worker {n} {os.getpid()}")
        while True:
            time.sleep(1)
say(f"master {os.getpid()}")
while True:
    time.sleep(1)
