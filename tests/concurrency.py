"""Run callables at the same instant on real, separate database connections."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


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
