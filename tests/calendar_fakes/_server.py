"""A JSON HTTP server on 127.0.0.1 in a thread, for the Google and Microsoft fakes."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class JsonHandler(BaseHTTPRequestHandler):
    """Routes every method to `self.server.fake.handle(method, path, query, headers, body)`, which
    answers (status, dict-or-None)."""

    def _dispatch(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake = self.server.fake
        with fake.lock:
            status, body = fake.handle(
                self.command, parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}, self.headers, raw
            )
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, *args):
        pass


def serve(fake):
    server = ThreadingHTTPServer(("127.0.0.1", 0), JsonHandler)
    server.daemon_threads = True
    server.fake = fake
    fake.lock = threading.Lock()
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


def stop(server):
    server.shutdown()
    server.server_close()
