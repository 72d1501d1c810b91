"""Real processes against the pytest database: a Celery worker on the local Redis, concurrent
dispatcher processes, and a dispatcher killed with SIGKILL in the middle of a batch.

Every subprocess gets DATABASE_URL naming the test database and the file email backend writing into a
temporary directory, so what it sends is visible here. The Celery worker listens on a queue of its own,
so a `make run` worker on the same Redis never sees these tasks.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection, transaction

from notifications.models import Channel, Reminder
from notifications.tasks import dispatch_due_reminders
from tests.factories import CustomerFactory, UserFactory
from tests.notifications.conftest import ROOT, due_reminders, duplicates, sent_keys, subprocess_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BIN = Path(sys.executable).parent


def wait_until(condition, *, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def scheduled() -> int:
    return Reminder.objects.filter(status=Reminder.Status.SCHEDULED).count()


# --- a real Celery worker -----------------------------------------------------------------------


@dataclass
class Worker:
    queue: str
    mail_dir: Path
    log: Path
    process: subprocess.Popen

    def finished(self, task_id: str, timeout: float = 30) -> int:
        """Wait for the worker to log the task's success; return the task's return value."""
        pattern = re.compile(rf"\[{task_id}\] succeeded in [\d.]+s: (\d+)")

        def done():
            assert self.process.poll() is None, self.log.read_text()
            match = pattern.search(self.log.read_text())
            return match and int(match.group(1)) + 1  # +1: a task that returned 0 is finished too

        return wait_until(done, timeout=timeout, what=f"task {task_id}") - 1

    def fire(self) -> str:
        """What Beat does every minute: send the dispatch task (to this worker's queue)."""
        return dispatch_due_reminders.apply_async(queue=self.queue).id


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, tmp_path_factory):
    mail_dir = tmp_path_factory.mktemp("worker-mail")
    log = tmp_path_factory.mktemp("worker-log") / "worker.log"
    queue = f"notifications-test-{uuid.uuid4().hex[:12]}"
    command = [
        str(BIN / "celery"), "-A", "booking_site", "worker", "-Q", queue, "-n", f"{queue}@%h",
        "-c", "2", "-P", "prefork", "-l", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=subprocess_env(mail_dir, PGAPPNAME=queue), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    worker = Worker(queue=queue, mail_dir=mail_dir, log=log, process=process)
    try:
        wait_until(lambda: " ready." in log.read_text() or process.poll() is not None, timeout=60, what="the worker")
        assert process.poll() is None, f"the Celery worker exited:\n{log.read_text()}"
        yield worker
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def worker(celery_worker):
    for path in celery_worker.mail_dir.glob("*"):
        path.unlink()
    return celery_worker


def test_a_real_celery_worker_sends_a_due_reminder_exactly_once(worker):
    [reminder] = due_reminders(1)

    assert worker.finished(worker.fire()) == 1
    assert worker.finished(worker.fire()) == 0  # the next tick finds nothing due

    assert sent_keys(worker.mail_dir) == [reminder.dedup_key]
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("sent", 1)


def test_a_real_celery_worker_keeps_its_database_connections_across_tasks(worker):
    """Celery's Django fixup would open a new PostgreSQL backend for every task; the worker keeps its
    connections as a web worker does (booking_site/celery.py), at most one per pool process (-c 2)."""

    def worker_sessions_after(tasks: int) -> set[int]:
        for _ in range(tasks):
            worker.finished(worker.fire())
        time.sleep(0.5)  # past the task's postrun, where Celery's fixup would have closed them
        with connection.cursor() as cursor:
            # The worker's own (libpq names them after PGAPPNAME), not those of other tests' threads.
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [worker.queue])
            return {pid for (pid,) in cursor.fetchall()}

    early, late = worker_sessions_after(3), worker_sessions_after(3)

    assert 1 <= len(late) <= 2, late
    assert early & late  # the same backends served later tasks


def test_beat_firing_twice_in_the_same_minute_sends_nothing_twice(worker):
    reminders = due_reminders(300)

    first, second = worker.fire(), worker.fire()  # two ticks at once; the worker runs both in parallel
    sent = worker.finished(first) + worker.finished(second)
    assert worker.finished(worker.fire()) == 0  # and a third, later, has nothing left

    keys = sent_keys(worker.mail_dir)
    assert sent == len(keys) == 300
    assert duplicates(keys) == {}
    assert sorted(keys) == sorted(r.dedup_key for r in reminders)
    assert scheduled() == 0


# --- dispatcher processes -----------------------------------------------------------------------


def start_dispatcher(env: dict[str, str], *, batch_size: int) -> subprocess.Popen:
    command = [
        sys.executable, "manage.py", "dispatch_notifications", "--what", "reminders", "--batch-size", str(batch_size),
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def totals(process: subprocess.Popen, timeout: float = 60) -> dict:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])["reminders"]


def waiting_on_reminder_table() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = 'notifications_reminder'::regclass AND NOT granted"
        )
        return cursor.fetchone()[0]


def test_two_dispatcher_processes_over_500_due_reminders_send_each_exactly_once(tmp_path):
    reminders = due_reminders(500)
    env = subprocess_env(tmp_path)

    # A starting line: both processes block on their first claim until this transaction ends.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE notifications_reminder IN EXCLUSIVE MODE")
        dispatchers = [start_dispatcher(env, batch_size=20) for _ in range(2)]
        wait_until(lambda: waiting_on_reminder_table() == 2, timeout=30, what="both dispatchers at the line")
    results = [totals(d) for d in dispatchers]

    keys = sent_keys(tmp_path)
    assert [r["sent"] > 0 for r in results] == [True, True], results  # both really took part
    assert sum(r["sent"] for r in results) == len(keys) == 500
    assert duplicates(keys) == {}
    assert sorted(keys) == sorted(r.dedup_key for r in reminders)
    assert set(Reminder.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_a_dispatcher_killed_after_its_claim_loses_nothing_and_repeats_at_most_its_send_in_flight(
    tmp_path, push_server
):
    """SIGKILL while the 10th message of a 25-row claim is in flight.

    9 are sent and recorded; the 10th reached the receiver but was never recorded; 15 more were claimed
    and never sent; 35 were never claimed. A restarted dispatcher sends the 35 at once; the 16 claimed
    rows wait for their lease (8 s here, 300 s by default) and are then sent. Nothing is lost, and the
    only message sent twice is the one that was in flight when the process died: the window is one
    message per killed process, because each send is recorded in its own commit right after it.
    """
    customer = CustomerFactory(user=UserFactory(is_staff=False))
    reminders = due_reminders(60, channel=Channel.PUSH, customer=customer)
    env = subprocess_env(
        tmp_path,
        PUSH_BACKEND="webhook",
        PUSH_WEBHOOK_URL=push_server.url + "/push",
        NOTIFICATIONS_CLAIM_LEASE_SECONDS="8",
        NOTIFICATIONS_SEND_TIMEOUT_SECONDS="1",
    )
    push_server.hold = {10}

    doomed = start_dispatcher(env, batch_size=25)
    assert push_server.wait_for(10), "the dispatcher never reached its 10th send"
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    push_server.release.set()

    in_flight = push_server.requests[9]["body"]["idempotency_key"]
    assert Reminder.objects.filter(status="sent").count() == 9
    leased = Reminder.objects.filter(status="scheduled", claimed_at__isnull=False)
    assert leased.count() == 16
    assert in_flight in {r.dedup_key for r in leased}

    after_restart = totals(start_dispatcher(env, batch_size=25))
    assert after_restart["sent"] == 35  # the never-claimed rows at once; the leased ones are not yet due
    assert leased.count() == 16

    lease_ends = max(r.next_attempt_at for r in leased)
    wait_until(lambda: _db_now() >= lease_ends, timeout=15, what="the lease to run out")
    after_lease = totals(start_dispatcher(env, batch_size=25))
    assert after_lease["sent"] == 16

    keys = [request["body"]["idempotency_key"] for request in push_server.requests]
    assert sorted(set(keys)) == sorted(r.dedup_key for r in reminders)  # none lost
    assert duplicates(keys) == {in_flight: 2}  # the window: the one send in flight
    assert scheduled() == 0
    assert Reminder.objects.get(pk=_pk(in_flight, reminders)).attempts == 2


def _db_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _pk(key: str, reminders) -> int:
    return next(r.pk for r in reminders if r.dedup_key == key)
