"""A cancellation's kick searches only around the span it freed; the sweep still searches everything."""

from datetime import timedelta

import pytest

from scheduling.services import booking_cancel
from tests.factories import service_of
from tests.waitlist.conftest import ANN, join
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.services import offers_make, waitlist_sweep

pytestmark = pytest.mark.django_db


def test_the_freed_span_is_offered_to_the_first_entry_whose_window_holds_it(full_day):
    provider, start, dans = full_day
    ann = join(provider, ANN, start)
    booking_cancel(booking_id=dans.pk)

    assert offers_make(service_id=service_of(provider).pk, freed=(dans.blocked_from, dans.blocked_until)) == 1
    assert WaitlistEntry.objects.get(pk=ann.pk).status == EntryStatus.OFFERED


def test_a_search_around_another_span_leaves_a_free_slot_to_the_sweep(full_day):
    provider, start, dans = full_day
    ann = join(provider, ANN, start)
    booking_cancel(booking_id=dans.pk)
    elsewhere = (dans.blocked_from + timedelta(days=1), dans.blocked_until + timedelta(days=1))

    assert offers_make(service_id=service_of(provider).pk, freed=elsewhere) == 0
    assert WaitlistEntry.objects.get(pk=ann.pk).status == EntryStatus.WAITING
    assert waitlist_sweep() == 1
    assert WaitlistEntry.objects.get(pk=ann.pk).status == EntryStatus.OFFERED
