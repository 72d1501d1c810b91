"""Races over real connections: the service's advisory lock keeps the line in order, and the exclusion
constraint gives a freed slot to one booking only (an offer or a new customer, never both)."""

from datetime import time, timedelta

import pytest

from scheduling.errors import SlotUnavailable
from scheduling.models import Booking
from scheduling.services import CustomerData, booking_cancel, booking_create
from tests.concurrency import run_concurrently
from tests.factories import AvailabilityRuleFactory, ProviderFactory, service_of
from tests.scheduling.test_booking_races import overlapping_live_pairs
from tests.waitlist.conftest import ANN, BEN, CAT, DAN, book, day_ahead, join, one_slot_a_day_provider
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.services import offers_make

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EVE = CustomerData(name="Eve", email="eve@example.com", timezone="Europe/Berlin")
NEW = CustomerData(name="Newcomer", email="new@example.com", timezone="Europe/Berlin")


def two_slots_a_day_provider():
    """Open 10:00–11:00 UTC every day: two 30-minute slots."""
    provider = ProviderFactory(timezone="UTC")
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(10), end_time=time(11))
    return provider


def fresh(*entries):
    return [WaitlistEntry.objects.get(pk=entry.pk) for entry in entries]


def cancel_then_offer(booking_id: int, service_id: int):
    def call():
        booking_cancel(booking_id=booking_id)
        return offers_make(service_id=service_id)

    return call


@pytest.mark.parametrize("attempt", range(3))
def test_two_cancellations_at_once_offer_the_first_two_in_line_one_slot_each(attempt):
    provider = two_slots_a_day_provider()
    service = service_of(provider)
    start = day_ahead()
    dans, eves = book(provider, DAN, start), book(provider, EVE, start + timedelta(minutes=30))
    ann, ben, cat = (join(provider, who, start) for who in (ANN, BEN, CAT))

    results = run_concurrently([cancel_then_offer(dans.pk, service.pk), cancel_then_offer(eves.pk, service.pk)])

    assert sum(results) == 2, results
    ann, ben, cat = fresh(ann, ben, cat)
    assert [ann.status, ben.status, cat.status] == [EntryStatus.OFFERED, EntryStatus.OFFERED, EntryStatus.WAITING]
    offered = {ann.offer_booking.start_at, ben.offer_booking.start_at}
    assert offered == {start, start + timedelta(minutes=30)}  # one slot each, never both to one entry
    assert overlapping_live_pairs() == 0


@pytest.mark.parametrize("attempt", range(3))
def test_a_cancellation_and_a_new_booking_at_once_give_the_slot_to_exactly_one(attempt):
    provider = one_slot_a_day_provider()
    service = service_of(provider)
    start = day_ahead()
    dans = book(provider, DAN, start)
    ann = join(provider, ANN, start)

    def new_customer():
        # Keeps trying until the cancellation has committed, then books the freed slot or loses it.
        for _ in range(400):
            try:
                return booking_create(provider_id=provider.pk, start=start, customer=NEW)
            except SlotUnavailable as exc:
                if WaitlistEntry.objects.filter(pk=ann.pk, status=EntryStatus.OFFERED).exists():
                    return exc
        return None

    offers, newcomer = run_concurrently([cancel_then_offer(dans.pk, service.pk), new_customer])

    assert not isinstance(offers, Exception), offers
    live = Booking.objects.live().filter(provider=provider, start_at=start)
    assert live.count() == 1
    (ann,) = fresh(ann)
    if isinstance(newcomer, Booking):
        assert offers == 0 and live.get().pk == newcomer.pk
        assert ann.status == EntryStatus.WAITING and ann.offers_made == 0  # keeps its place in line
    else:
        assert isinstance(newcomer, SlotUnavailable), newcomer
        assert offers == 1 and ann.status == EntryStatus.OFFERED and live.get().pk == ann.offer_booking_id
    assert overlapping_live_pairs() == 0


def test_two_offer_runs_at_once_do_not_skip_the_line():
    provider = one_slot_a_day_provider()
    service = service_of(provider)
    start = day_ahead()
    dans = book(provider, DAN, start)
    ann, ben = join(provider, ANN, start), join(provider, BEN, start)
    booking_cancel(booking_id=dans.pk)

    results = run_concurrently([lambda: offers_make(service_id=service.pk) for _ in range(4)])

    assert sorted(results) == [0, 0, 0, 1], results
    ann, ben = fresh(ann, ben)
    assert (ann.status, ben.status) == (EntryStatus.OFFERED, EntryStatus.WAITING)
    assert overlapping_live_pairs() == 0
