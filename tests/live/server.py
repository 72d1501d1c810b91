"""A real gunicorn serving the test database, for tests that need real HTTP and several processes."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


class Gunicorn:
    """`gunicorn booking_site.wsgi` started from the repo root, so gunicorn.conf.py applies (as in
    production); `env` overrides the environment (another database, Redis, an access log)."""

    def __init__(self, *, workers: int = 4, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "DEBUG": "0",
            "SECRET_KEY": "test-only-secret-key-for-the-live-server",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "booking_site.settings",
            **(env or {}),
        }
        # A file, not a pipe: nobody reads a pipe while the test runs, and a worker that logs more than
        # the pipe holds (tracebacks during an outage) would block on its next write.
        self.output = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "booking_site.wsgi", "--workers", str(workers),
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "--timeout", "60"],
            cwd=ROOT, env=env, stdout=self.output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.read_output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        """(status, JSON body); see request_with_headers."""
        status, payload, _ = self.request_with_headers(method, path, body, headers)
        return status, payload

    def request_with_headers(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        """(status, JSON body or None, response headers); HTML answers have no JSON body."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            response = urllib.request.urlopen(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            raw, status, got = response.read(), response.status, dict(response.headers)
        is_json = got.get("Content-Type", "").startswith("application/json")
        return status, json.loads(raw or b"null") if is_json else None, got

    def read_output(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
