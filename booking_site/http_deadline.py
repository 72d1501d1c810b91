"""A deadline on a whole HTTP exchange, for the places the server calls an address a user typed:
webhook endpoints and iCal URLs (through requests), CalDAV servers (through the `caldav` library's
niquests).

A read timeout bounds each read from the socket, not the answer: a receiver that sends its status
line and headers (or its body) a byte at a time, each byte within the timeout, would hold the worker
for as long as it likes. Inside `cut_off_at(deadline)`, every connection of a `session()` (or of a
pool manager given to `watch_pools`) that waits for an answer is registered, and a timer shuts its
socket down when the deadline passes: the blocked read returns at once and the client raises a
connection error. Works with urllib3 and with urllib3-future (which niquests installs in urllib3's
place, so requests runs on it too).
"""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_active = threading.local()


class _Cutoff:
    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


@contextmanager
def cut_off_at(deadline: float) -> Iterator[None]:
    """Within the block, answers awaited on `session()` connections end at `deadline` (a
    `time.monotonic()` value), however slowly they arrive."""
    cutoff, outer = _Cutoff(deadline - time.monotonic()), getattr(_active, "cutoff", None)
    _active.cutoff = cutoff
    cutoff.start()
    try:
        yield
    finally:
        cutoff.cancel()
        _active.cutoff = outer


class _WatchedWhileAnswering:
    def getresponse(self, *args, **kwargs):
        cutoff = getattr(_active, "cutoff", None)
        if cutoff is not None and self.sock is not None:
            cutoff.watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _HTTPConnection(_WatchedWhileAnswering, HTTPConnection):
    pass


class _HTTPSConnection(_WatchedWhileAnswering, HTTPSConnection):
    pass


class _HTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def watch_pools(pool_manager) -> None:
    """Make `pool_manager`'s connections ones `cut_off_at` can cut: requests' and niquests' (the
    `caldav` library's) adapters both build their pools through urllib3's PoolManager."""
    pool_manager.pool_classes_by_scheme = {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        watch_pools(self.poolmanager)


def session() -> requests.Session:
    """A requests session whose connections `cut_off_at` can cut."""
    kept = requests.Session()
    kept.mount("http://", _Adapter())
    kept.mount("https://", _Adapter())
    return kept
