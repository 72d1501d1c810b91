"""Run callables at the same instant on real, separate database connections; or one after another
with a transaction held open in between, to set up a race in a known order."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, transaction


def run_concurrently(calls: list[Callable[[], Any]], *, timeout: float = 60) -> list[Any]:
    """Start every call together behind a barrier; return each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the caller inspects what each thread raised
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a concurrent call did not finish in time"
    return results


def backends_waiting_on_a_lock() -> int:
    """How many sessions of the test database are waiting for a lock now."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_until(condition: Callable[[], bool], *, timeout: float = 20) -> bool:
    """Poll `condition` every 20 ms until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


class InThread:
    """`call` running on a thread (and database connection) of its own."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                self._outcome["value"] = call()
            except Exception as exc:  # noqa: BLE001 - handed to the caller by result()
                self._outcome["error"] = exc
            finally:
                connections.close_all()

        self._thread = threading.Thread(target=run)
        self._thread.start()

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self, *, timeout: float = 30) -> Any:
        """The call's return value once it has finished; what it raised is raised here."""
        self._thread.join(timeout)
        assert self.done(), "the call did not finish in time"
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["value"]


@contextmanager
def transaction_held_open(call: Callable[[], Any], *, timeout: float = 20) -> Iterator[Any]:
    """Run `call` in a transaction on a thread of its own and keep that transaction open, its locks
    held, for the body of the `with` block; it commits when the block is left. Yields what `call`
    returned; raises here what it raised."""
    called, commit = threading.Event(), threading.Event()
    returned: list[Any] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                returned.append(call())
                called.set()
                commit.wait(timeout)
        finally:
            called.set()

    holder = InThread(hold)
    assert called.wait(timeout), "the held call did not return in time"
    if not returned:
        holder.result()  # the call raised: raise it here
    try:
        yield returned[0]
    finally:
        commit.set()
        holder.result(timeout=timeout)
