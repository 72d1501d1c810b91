"""The waitlist's messages go with the rest once their entry is long over (waitlist.selectors.
messages_past_retention, run by notifications.services.messages_purge); a live entry's, or one
closed lately, stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from tests.waitlist.conftest import ANN, day_ahead, join, one_slot_a_day_provider
from waitlist.models import EntryStatus, WaitlistEntry, WaitlistMessage

pytestmark = pytest.mark.django_db

DAYS = 180


@pytest.fixture(autouse=True)
def _retention(settings):
    settings.MESSAGE_RETENTION_DAYS = DAYS


def entry_with_a_sent_message(*, status: str, ended_days_ago: int, closed_days_ago: int) -> WaitlistEntry:
    """An entry (joined, its "joined" message sent) moved to `status`, its window ended `ended_days_ago`
    and last changed `closed_days_ago`; its messages last changed as long ago as the window ended."""
    entry = join(one_slot_a_day_provider(), ANN, day_ahead())
    assert entry.messages.exists()
    now = timezone.now()
    end = now - timedelta(days=ended_days_ago)
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        status=status, window_start=end - timedelta(days=1), window_end=end,
        updated_at=now - timedelta(days=closed_days_ago),
    )  # fmt: skip
    entry.messages.update(status="sent", updated_at=end)
    return entry


def test_the_messages_of_an_entry_long_over_are_deleted():
    entry = entry_with_a_sent_message(status=EntryStatus.WITHDRAWN, ended_days_ago=DAYS + 10, closed_days_ago=DAYS + 10)
    count = entry.messages.count()

    assert services.messages_purge()["waitlist_messages"] == count
    assert not WaitlistMessage.objects.exists()


def test_the_messages_of_a_live_entry_are_kept_however_old():
    entry_with_a_sent_message(status=EntryStatus.WAITING, ended_days_ago=DAYS + 10, closed_days_ago=DAYS + 10)

    assert services.messages_purge()["waitlist_messages"] == 0
    assert WaitlistMessage.objects.exists()


def test_the_messages_of_an_entry_closed_lately_are_kept():
    entry_with_a_sent_message(status=EntryStatus.EXPIRED, ended_days_ago=DAYS + 10, closed_days_ago=3)

    assert services.messages_purge()["waitlist_messages"] == 0
    assert WaitlistMessage.objects.exists()
