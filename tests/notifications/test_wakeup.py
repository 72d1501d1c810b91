"""The debounced wake-up of the outboxes (notifications/wakeup.py), against the real broker Redis: one
drain task per burst of commits, every committed row sent by a drain that starts after its commit, and a
broker that is down never failing the booking."""

import json
import socket
from datetime import datetime, timedelta
from functools import partial

import pytest
from django.utils import timezone

from booking_site.celery import app as celery_app
from notifications import services, wakeup
from notifications.models import Notification
from notifications.tasks import send_notification
from scheduling.services import CustomerData, booking_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

QUEUE = "celery"  # the default queue: a published task is one more item in this Redis list


@pytest.fixture
def staffed(provider):
    provider.staff.add(UserFactory(username="desk", email="desk@clinic.example"))
    return provider


@pytest.fixture
def book(staffed, django_capture_on_commit_callbacks):
    """Make a booking and run its on-commit callbacks, as its commit would. Each a new hour."""
    made = []

    def make():
        start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        start += timedelta(hours=len(made))
        customer = CustomerData(name="Ada", email=f"ada{len(made)}@example.com", timezone="UTC")
        with django_capture_on_commit_callbacks(execute=True):
            made.append(booking_create(provider_id=staffed.pk, start=start, customer=customer))
        return made[-1]

    return make


def queued() -> int:
    return wakeup.client().llen(QUEUE)


def pending() -> int:
    return Notification.objects.filter(status="pending").count()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens there once the socket is closed


@pytest.fixture
def broker_down(settings, monkeypatch):
    """The broker's Redis unreachable: the wake-up flag and the publish both fail."""
    settings.CELERY_BROKER_URL = closed_port_url()
    monkeypatch.setattr(wakeup, "_client", None)


@pytest.fixture
def publish_fails(monkeypatch):
    """The flag's Redis answers, but Celery publishes to a broker that is down."""
    monkeypatch.setattr(celery_app.conf, "broker_url", closed_port_url())
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)


def test_the_first_commit_publishes_one_drain_and_sets_the_flag(book):
    before = queued()
    book()
    assert queued() == before + 1
    assert wakeup.client().exists(wakeup.flag_key("notifications"))


def test_the_drain_starts_after_the_wake_delay_so_a_burst_of_commits_shares_it(book, settings):
    settings.OUTBOX_WAKE_DELAY_SECONDS = 5
    before = queued()
    book()

    assert queued() == before + 1
    message = json.loads(wakeup.client().lindex(QUEUE, 0))  # kombu LPUSHes: the newest is first
    eta = datetime.fromisoformat(message["headers"]["eta"])
    assert timedelta(seconds=4) < eta - timezone.now() <= timedelta(seconds=5)


def test_commits_that_find_the_flag_set_publish_nothing(book):
    book()
    after_first = queued()
    for _ in range(5):
        book()
    assert queued() == after_first  # the per-commit kick of before published five more tasks


def test_the_queued_drain_sends_the_rows_of_every_commit_that_found_the_flag_set(book, mailoutbox):
    first = book()
    later = [book() for _ in range(3)]  # each found the flag: their rows ride on the drain queued by `first`

    assert wakeup.drain("notifications").sent == 8  # what the worker runs for the queued task

    assert pending() == 0
    assert {n.status for b in [first, *later] for n in b.notifications.all()} == {"sent"}
    assert len(mailoutbox) == 8


def test_a_commit_after_the_drain_deleted_the_flag_publishes_again_and_is_sent(book, mailoutbox, monkeypatch):
    """The other interleaving: the drain has started (flag deleted) when the commit lands. The commit
    publishes a drain of its own; whichever reads the outbox after the commit sends its rows."""
    book()
    real = wakeup._drain_function("notifications")
    during = []

    def commit_mid_drain(**kwargs):
        before = queued()
        during.append(book())  # the flag is already deleted: this commit must publish
        during.append(queued() - before)
        return real(**kwargs)

    monkeypatch.setattr(wakeup, "_drain_function", lambda name: commit_mid_drain)

    wakeup.drain("notifications")

    assert during[1] == 1
    assert pending() == 0
    assert {n.status for n in during[0].notifications.all()} == {"sent"}


def test_a_drain_whose_budget_runs_out_wakes_the_outbox_again(book, monkeypatch):
    for _ in range(3):
        book()
    monkeypatch.setattr(wakeup, "_drain_function", lambda name: partial(services.notifications_drain, batch_size=2))
    before = queued()

    result = wakeup.drain("notifications", budget_seconds=0)

    assert result.unfinished == 1 and pending() == 4  # one batch of two, then out of time
    assert queued() == before + 1  # it asked for another drain for the rows it left


def test_an_earlier_releases_kick_drains_the_whole_outbox(book, mailoutbox):
    booking = book()
    book()
    row = booking.notifications.first()

    assert send_notification(row.pk) == 4  # every due row, not only the named one
    assert send_notification(row.pk) == 0
    assert len(mailoutbox) == 4


def test_a_broker_that_is_down_does_not_fail_the_booking_and_the_sweep_sends_it(book, broker_down, mailoutbox):
    booking = book()

    assert booking.pk and pending() == 2
    assert services.notifications_drain().sent == 2  # the minute sweep
    assert len(mailoutbox) == 2


def test_a_publish_that_fails_clears_the_flag_so_the_next_commit_tries_again(book, publish_fails):
    book()
    assert not wakeup.client().exists(wakeup.flag_key("notifications"))
    assert pending() == 2  # for the sweep
