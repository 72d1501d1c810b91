"""Calendar exports go with the other messages once their booking is long over (calendars.selectors.
exports_past_retention, run by notifications.services.messages_purge); a waiting one, a recent one or one
of a booking that ended lately stays."""

from datetime import timedelta

import pytest
from django.utils import timezone

from calendars.export_hooks import _row
from calendars.models import CalendarConnection, CalendarExport
from notifications import services
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db

DAYS = 180


@pytest.fixture(autouse=True)
def _retention(settings):
    settings.MESSAGE_RETENTION_DAYS = DAYS


def export(*, ended_days_ago: int, status: str = "sent", changed_days_ago: int | None = None) -> CalendarExport:
    start = timezone.now().replace(microsecond=0) - timedelta(days=ended_days_ago, minutes=30)
    end = start + timedelta(minutes=30)
    booking = BookingFactory(start_at=start, end_at=end, blocked_from=start, blocked_until=end)
    connection = CalendarConnection.objects.create(provider=booking.provider, kind=CalendarConnection.Kind.CALDAV)
    row = _row(connection.pk, booking, event="confirmed", now=start)
    row.status = status
    row.save()
    changed = timezone.now() - timedelta(days=ended_days_ago if changed_days_ago is None else changed_days_ago)
    CalendarExport.objects.filter(pk=row.pk).update(updated_at=changed)
    return row


def test_exports_of_a_booking_long_over_are_deleted_and_the_rest_kept():
    export(ended_days_ago=DAYS + 5)
    export(ended_days_ago=DAYS + 5, status="failed")
    kept = [
        export(ended_days_ago=DAYS + 5, status="pending"),  # still waiting
        export(ended_days_ago=DAYS + 5, changed_days_ago=2),  # sent again lately
        export(ended_days_ago=10, changed_days_ago=DAYS + 30),  # booked long ahead, ended lately
    ]

    assert services.messages_purge()["calendar_exports"] == 2
    assert set(CalendarExport.objects.values_list("pk", flat=True)) == {row.pk for row in kept}
