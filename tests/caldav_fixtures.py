"""A real CalDAV server (Radicale) in a subprocess on 127.0.0.1, with a temporary storage folder and
one user (a plugin of tests/conftest.py, for the CalDAV adapter and export tests)."""

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import caldav
import pytest

USERNAME = "ann"
PASSWORD = "s3cret-app-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Radicale:
    """A running Radicale; `stop()` and `start()` take it down and bring it back on the same port
    with the same storage (a calendar service that is down for a while)."""

    port: int
    folder: Path
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def calendar_url(self) -> str:
        return f"{self.base_url}/{USERNAME}/work/"

    def start(self) -> None:
        htpasswd = self.folder / "users"
        htpasswd.write_text(f"{USERNAME}:{PASSWORD}\n")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "radicale",
                "--config",
                "",
                "--server-hosts",
                f"127.0.0.1:{self.port}",
                "--storage-filesystem-folder",
                str(self.folder / "collections"),
                "--auth-type",
                "htpasswd",
                "--auth-htpasswd-filename",
                str(htpasswd),
                "--auth-htpasswd-encryption",
                "plain",
                "--auth-delay",
                "0",
                "--logging-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("Radicale exited on start") from None
                time.sleep(0.05)
        raise RuntimeError("Radicale did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def calendar(self) -> caldav.Calendar:
        """The test's own view of the calendar, through the caldav library."""
        client = caldav.DAVClient(
            url=self.calendar_url, username=USERNAME, password=PASSWORD, enable_rfc6764=False, timeout=10
        )
        return client.calendar(url=self.calendar_url)

    def event_uids(self) -> set[str]:
        return {str(resource.icalendar_component["UID"]) for resource in self.calendar().events()}


@pytest.fixture(scope="session")
def _radicale_process(tmp_path_factory):
    server = Radicale(port=_free_port(), folder=tmp_path_factory.mktemp("radicale"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def radicale(_radicale_process, settings):
    """A running Radicale with an empty calendar `ann/work`; private URLs are allowed for it (it listens
    on loopback)."""
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    server = _radicale_process
    if server.process is None:
        server.start()
    client = caldav.DAVClient(url=server.base_url, username=USERNAME, password=PASSWORD, enable_rfc6764=False)
    try:
        client.calendar(url=server.calendar_url).delete()
    except caldav.lib.error.DAVError:
        pass
    client.principal().make_calendar(name="Work", cal_id="work")
    yield server
    if server.process is None:  # a test that stopped it leaves it running for the next
        server.start()
