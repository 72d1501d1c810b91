"""A real HTTP receiver for webhook tests: a threaded http.server on 127.0.0.1 that records every
request (headers and body) and answers with the status its `answer` function picks."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass
class Receiver:
    url: str = ""
    requests: list[dict] = field(default_factory=list)
    answer: Callable[[int], int] = lambda n: 204
    hold: set[int] = field(default_factory=set)  # requests (1-based) that wait for `release`
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 15) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout)

    def verified(self, secret: str) -> list[dict]:
        """Every request's payload, each checked with standardwebhooks (raises on a bad signature)."""
        return [Webhook(secret).verify(r["body"], r["headers"]) for r in self.requests]

    def ids(self) -> list[str]:
        return [r["headers"]["webhook-id"] for r in self.requests]


def start_receiver(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps the connection open, as most receivers do

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            with receiver.arrived:
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "peer": self.client_address,
                    }
                )
                number = len(receiver.requests)
                receiver.arrived.notify_all()
            if number in receiver.hold:
                receiver.release.wait(30)
            self.send_response(receiver.answer(number))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
