"""Every sweep Beat must run is registered by a data migration (booking_site/migration_operations.py)."""

import pytest
from django_celery_beat.models import PeriodicTask

pytestmark = pytest.mark.django_db

SWEEPS = {
    "payments.tasks.run_gateway_calls": "Make owed payment gateway calls",
    "waitlist.tasks.sweep": "Waitlist: close passed windows and make missed offers",
    "calendars.tasks.sync_due_calendars": "Sync due external calendars",
    "calendars.tasks.renew_push_channels": "Renew calendar push channels",
    "calendars.tasks.sweep_exports": "Send calendar exports",
    "notifications.tasks.sweep_webhooks": "Send due webhook deliveries",
}


@pytest.mark.parametrize(("task", "name"), SWEEPS.items())
def test_the_sweep_runs_every_minute(task, name):
    sweep = PeriodicTask.objects.select_related("interval").get(name=name)
    assert (sweep.task, sweep.enabled, sweep.interval.every, sweep.interval.period) == (task, True, 1, "minutes")
    assert sweep.description
