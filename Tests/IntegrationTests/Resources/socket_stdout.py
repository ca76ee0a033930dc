# Runs `swiftman start` with its stdout on a socket (as under systemd's journal)
# that nobody reads, lets the formation fill it, then sends SIGTERM twice.
# Prints "exited CODE" when swiftman exits within 15 s, else "hung" (and kills it).
import signal, socket, subprocess, sys, time

swiftman, procfile = sys.argv[1], sys.argv[2]
ours, theirs = socket.socketpair()
proc = subprocess.Popen([swiftman, "start", "-f", procfile, "--no-color"], stdout=theirs.fileno(),
                        stdin=subprocess.DEVNULL)
theirs.close()
time.sleep(1.5)  # the flood fills the socket buffer: swiftman's writes would block
proc.send_signal(signal.SIGTERM)
time.sleep(0.5)
proc.send_signal(signal.SIGTERM)
try:
    print(f"exited {proc.wait(timeout=15)}", flush=True)
except subprocess.TimeoutExpired:
    proc.kill()
    proc.wait()
    print("hung", flush=True)
