"""A real Celery worker makes the offers: woken by a cancellation's commit, and, when that kick was
lost while no worker ran, by the sweep once one is back."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

from booking_site.celery import app
from scheduling.services import booking_cancel
from tests.notifications.conftest import ROOT, subprocess_env
from tests.waitlist.conftest import ANN, DAN, book, day_ahead, join, one_slot_a_day_provider
from waitlist import tasks
from waitlist.models import EntryStatus, WaitlistEntry, WaitlistMessage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BIN = Path(sys.executable).parent


def wait_until(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def queue(monkeypatch):
    """A queue of this test's own, which this process's tasks are sent to."""
    name = f"waitlist-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(app.conf, "task_default_queue", name)
    yield name
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(name)


@pytest.fixture
def start_worker(django_db_setup, tmp_path):
    """Start a worker on a queue; stopped at the end of the test. Returns its log file."""
    processes = []

    def start(queue: str) -> Path:
        log = tmp_path / f"worker-{len(processes)}.log"
        command = [
            str(BIN / "celery"), "-A", "booking_site", "worker", "-Q", queue, "-n", f"{queue}@%h",
            "-c", "1", "-P", "solo", "-l", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with open(log, "w") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=subprocess_env(tmp_path), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        processes.append(process)
        wait_until(lambda: " ready." in log.read_text() or process.poll() is not None, timeout=60, what="the worker")
        assert process.poll() is None, f"the Celery worker exited:\n{log.read_text()}"
        return log

    yield start
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def offer_of(entry):
    return WaitlistMessage.objects.filter(entry_id=entry.pk, kind=WaitlistMessage.Kind.OFFER).first()


def test_a_cancellations_commit_wakes_a_running_worker_which_makes_the_offer(queue, start_worker):
    log = start_worker(queue)
    provider = one_slot_a_day_provider()
    start = day_ahead()
    dans = book(provider, DAN, start)
    ann = join(provider, ANN, start)
    joined = f"Task {tasks.MAKE_SERVICE_OFFERS_TASK}"
    wait_until(lambda: joined in log.read_text() and "succeeded" in log.read_text(), timeout=30, what="the join's run")

    booking_cancel(booking_id=dans.pk)  # its commit kicks waitlist.tasks.make_offers

    wait_until(lambda: offer_of(ann), timeout=30, what=f"the worker's offer:\n{log.read_text()}")
    ann = WaitlistEntry.objects.get(pk=ann.pk)
    assert ann.status == EntryStatus.OFFERED and ann.offer_booking.start_at == start
    assert f"Task {tasks.MAKE_OFFERS_TASK}[" in log.read_text()


def test_an_offer_missed_while_no_worker_ran_is_made_by_the_sweep_once_one_is_back(queue, start_worker):
    provider = one_slot_a_day_provider()
    start = day_ahead()
    dans = book(provider, DAN, start)
    ann = join(provider, ANN, start)

    booking_cancel(booking_id=dans.pk)  # kicks a worker, but none runs: the kick waits on the queue...
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    assert broker.llen(queue) >= 1
    broker.delete(queue)  # ...and is lost (a broker restart without persistence, say)
    time.sleep(1)
    assert offer_of(ann) is None and WaitlistEntry.objects.get(pk=ann.pk).status == EntryStatus.WAITING

    log = start_worker(queue)
    tasks.sweep.delay()  # what Beat sends every minute

    wait_until(lambda: offer_of(ann), timeout=30, what=f"the sweep's offer:\n{log.read_text()}")
    ann = WaitlistEntry.objects.get(pk=ann.pk)
    assert ann.status == EntryStatus.OFFERED and ann.offer_booking.start_at == start
    ran = log.read_text()
    assert f"Task {tasks.SWEEP_TASK}[" in ran and f"Task {tasks.MAKE_OFFERS_TASK}[" not in ran
