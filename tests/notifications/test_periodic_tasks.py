"""The data migration registers the dispatch and the sweep with django-celery-beat, every minute."""

import pytest
from django_celery_beat.models import PeriodicTask

from booking_site.celery import app
from notifications.tasks import (
    DISPATCH_REMINDERS_TASK,
    DRAIN_OUTBOX_TASK,
    SEND_NOTIFICATION_TASK,
    SWEEP_OUTBOX_TASK,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tasks_discovered():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks


@pytest.mark.parametrize("task", [DISPATCH_REMINDERS_TASK, SWEEP_OUTBOX_TASK, "scheduling.tasks.expire_holds"])
def test_each_sweep_is_registered_every_minute(task):
    periodic = PeriodicTask.objects.get(task=task)
    assert periodic.enabled
    assert (periodic.interval.every, periodic.interval.period) == (1, "minutes")
    assert task in app.tasks


def test_a_dispatch_tick_that_waited_over_a_minute_is_dropped():
    for task in (DISPATCH_REMINDERS_TASK, SWEEP_OUTBOX_TASK):
        assert PeriodicTask.objects.get(task=task).expire_seconds == 60


def test_the_wake_up_and_the_earlier_kicks_are_known_tasks():
    """Kicks of an earlier release may still be queued after a deploy; they now drain their outbox."""
    for task in (DRAIN_OUTBOX_TASK, SEND_NOTIFICATION_TASK, "waitlist.tasks.send_messages"):
        assert task in app.tasks
