# A web server with a Rails-like health route: `http_up.py PORT MODE`.
# MODE:
#   503xN     GET /up answers 503 for the first N requests, then 200
#   500afterN GET /up answers 200 for the first N requests, then 500
#   silent    accepts connections and never answers
#   garbage   answers every connection with a line that is not HTTP
# (both print `connection N` as each one comes)
# Every request to /up is printed (`GET /up 503`), in order.
import socket, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, mode = int(sys.argv[1]), sys.argv[2]

if mode in ("silent", "garbage"):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    print(f"{mode} on port {port}", flush=True)
    held = []
    while True:
        conn, _ = server.accept()
        held.append(conn)
        if mode == "garbage":
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        print(f"connection {len(held)}", flush=True)

if mode.startswith("503x"):
    failing = lambda n: n <= int(mode[len("503x"):])
    error = 503
else:
    failing = lambda n: n > int(mode[len("500after"):])
    error = 500
count = 0

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        global count
        if self.path != "/up":
            status = 404
        else:
            count += 1
            status = error if failing(count) else 200
        print(f"GET {self.path} {status}", flush=True)
        body = b"ok\n" if status == 200 else b"not yet\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer.allow_reuse_address = True
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(f"listening on port {port}", flush=True)
server.serve_forever()
