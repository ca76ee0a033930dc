# A server that only listens: `listen.py HOST PORT`, on ::1 as Node servers do
# for "localhost", or wherever asked. Like any server it fails with "Address
# already in use" (exit 1) when the port is taken.
import socket, sys, time

host, port = sys.argv[1], int(sys.argv[2])
server = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
server.bind((host, port))
server.listen(16)
print(f"listening on {host} port {port}", flush=True)
while True:
    time.sleep(1)
