# A small web app with a Rails-like health route (Rails answers GET /up since
# 7.1): `/` greets, `/up` answers 200 while the app is healthy. Python's
# http.server only; it listens on 127.0.0.1:$PORT and logs each request.
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port = int(os.environ.get("PORT", "5000"))
name = os.environ.get("PS", "web")


class App(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/up":
            status, body = 200, b"ok\n"
        elif self.path == "/":
            status, body = 200, f"hello from {name}\n".encode()
        else:
            status, body = 404, b"not found\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        print(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}".rstrip(), flush=True)


ThreadingHTTPServer.allow_reuse_address = True
server = ThreadingHTTPServer(("127.0.0.1", port), App)
print(f"listening on 127.0.0.1:{port} as {name}", flush=True)
server.serve_forever()
