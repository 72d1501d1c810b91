"""A real Celery worker makes the refund a cancellation owes, woken by the commit's kick
(payments.tasks.kick_gateway_calls), with no sweep and nothing run in this process."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from booking_site.celery import app
from payments.models import GatewayCall, Payment
from payments.services import checkout_charge, payment_pay
from scheduling.services import booking_cancel
from tests.notifications.conftest import ROOT, subprocess_env
from tests.payments.conftest import book, paid_online_provider
from tests.stripe_fixtures import SECRET_KEY

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
def payments_worker(django_db_setup, localstripe_server, tmp_path, monkeypatch):
    """A worker on a queue of its own, which this process's tasks are sent to; Stripe is the localstripe."""
    queue = f"payments-test-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    env = subprocess_env(tmp_path, STRIPE_API_BASE=localstripe_server, STRIPE_SECRET_KEY=SECRET_KEY)
    command = [
        str(BIN / "celery"), "-A", "booking_site", "worker", "-Q", queue, "-n", f"{queue}@%h",
        "-c", "1", "-P", "solo", "-l", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    try:
        wait_until(lambda: " ready." in log.read_text() or process.poll() is not None, timeout=60, what="the worker")
        assert process.poll() is None, f"the Celery worker exited:\n{log.read_text()}"
        yield log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_real_worker_makes_the_refund_a_cancellation_owes(payments_worker, stripe_local):
    booking = book(paid_online_provider())
    charge = checkout_charge(booking=booking)
    payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())

    booking_cancel(booking_id=booking.pk)  # its commit kicks the worker

    refund = Payment.objects.get(kind=Payment.Kind.REFUND)
    made = wait_until(
        lambda: Payment.objects.filter(pk=refund.pk, status=Payment.Status.SUCCEEDED).first(),
        timeout=30,
        what=f"the worker's refund:\n{payments_worker.read_text()}",
    )
    assert made.reference.startswith("re_")
    assert GatewayCall.objects.get(payment=refund).status == GatewayCall.Status.DONE
    assert "payments.tasks.run_gateway_calls" in payments_worker.read_text()
