# A queue worker on redis (its port is the argument). On SIGTERM it finishes
# the job in hand (about a second), then reports the result to redis: if redis
# had been stopped first, that fails and the job is lost.
import os, signal, socket, sys, time

port = int(sys.argv[1])

def redis(command):
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(command.encode() + b"\r\n")
        return s.recv(100).decode().strip()

def term(*_):
    print("SIGTERM: finishing the job in hand", flush=True)
    time.sleep(1)
    try:
        answer = redis("SET job done")
    except OSError as error:
        print(f"job lost: {error}", flush=True)
        sys.exit(1)
    print(f"job saved: {answer}", flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, term)
print(f"worker up, redis says {redis('PING')}", flush=True)
while True:
    time.sleep(1)
