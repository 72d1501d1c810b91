"""Which slot an entry may be offered: its window, its time of day in the customer's zone, its provider;
what closes it when the window passes; and which schedule changes look for an offer."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from booking_site.celery import app
from scheduling.services import (
    CustomerData,
    availability_rule_create,
    blocked_time_delete,
    booking_cancel,
    booking_create,
)
from tests.factories import BlockedTimeFactory, ProviderFactory, ServiceFactory, service_of
from tests.waitlist.conftest import ANN, BEN, DAN, day_ahead, join, one_slot_a_day_provider, whole_day
from waitlist.models import EntryStatus, WaitlistEntry, WaitlistMessage
from waitlist.services import Window, offers_make, waitlist_join, waitlist_sweep

pytestmark = pytest.mark.django_db

NEW_YORK = CustomerData(name="Nia", email="nia@example.com", timezone="America/New_York")
TOKYO = CustomerData(name="Taro", email="taro@example.com", timezone="Asia/Tokyo")


def status(entry) -> str:
    return WaitlistEntry.objects.get(pk=entry.pk).status


def join_between(provider, customer, start, day_start, day_end):
    window = whole_day(start)
    return waitlist_join(
        service_id=service_of(provider).pk,
        customer=customer,
        window=Window(start=window.start, end=window.end + timedelta(days=1), day_start=day_start, day_end=day_end),
    )


def test_a_slot_outside_the_customers_time_of_day_is_not_offered(full_day):
    provider, start, dans = full_day  # the slot is 10:00 UTC: 05:00 or 06:00 in New York, 19:00 in Tokyo
    # 10:00-11:00 would hold the slot were it read in UTC; in New York it is before dawn.
    new_york = join_between(provider, NEW_YORK, start, time(10), time(11))
    tokyo = join_between(provider, TOKYO, start, time(18, 30), time(20))
    booking_cancel(booking_id=dans.pk)

    assert offers_make(service_id=service_of(provider).pk) == 1

    assert (status(new_york), status(tokyo)) == (EntryStatus.WAITING, EntryStatus.OFFERED)


def test_a_slot_inside_the_customers_time_of_day_is_offered(full_day):
    provider, start, dans = full_day
    early = join_between(provider, NEW_YORK, start, time(4), time(7, 30))
    booking_cancel(booking_id=dans.pk)

    assert offers_make(service_id=service_of(provider).pk) == 1
    assert status(early) == EntryStatus.OFFERED


def test_an_entry_for_one_provider_is_offered_only_that_providers_slots():
    first, second = one_slot_a_day_provider(), one_slot_a_day_provider()
    shared = ServiceFactory(providers=[first, second])
    start = day_ahead()
    taken = {
        p.pk: booking_create(service_id=shared.pk, provider_id=p.pk, start=start, customer=DAN) for p in (first, second)
    }
    window = whole_day(start)
    wants_first = waitlist_join(service_id=shared.pk, customer=ANN, window=window, provider_id=first.pk)
    anyone = waitlist_join(service_id=shared.pk, customer=BEN, window=window)
    booking_cancel(booking_id=taken[second.pk].pk)

    assert offers_make(service_id=shared.pk) == 1

    assert status(wants_first) == EntryStatus.WAITING  # first in line, but not for this provider
    anyone = WaitlistEntry.objects.get(pk=anyone.pk)
    assert anyone.status == EntryStatus.OFFERED and anyone.offer_booking.provider_id == second.pk


def test_the_sweep_closes_an_entry_whose_window_has_passed_and_tells_the_customer(full_day):
    provider, start, _dans = full_day
    ann, ben = join(provider, ANN, start), join(provider, BEN, start + timedelta(days=1))
    past = timezone.now() - timedelta(minutes=1)
    WaitlistEntry.objects.filter(pk=ann.pk).update(window_start=past - timedelta(hours=1), window_end=past)

    waitlist_sweep()

    assert status(ann) == EntryStatus.EXPIRED
    assert status(ben) != EntryStatus.EXPIRED  # its window is still ahead (its free day is offered)
    ended = WaitlistMessage.objects.filter(kind=WaitlistMessage.Kind.ENDED)
    assert list(ended.values_list("entry_id", "address")) == [(ann.pk, "ann@example.com")]
    assert WaitlistEntry.objects.get(pk=ann.pk).closed_at is not None


@pytest.fixture
def tasks_run_in_process(monkeypatch):
    """The on-commit kick runs its task here and now, as a worker would."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def test_removing_a_blocked_time_kicks_an_offer(django_capture_on_commit_callbacks, tasks_run_in_process):
    provider = one_slot_a_day_provider()
    start = day_ahead()
    blocked = BlockedTimeFactory(
        provider=provider, start_at=start - timedelta(hours=1), end_at=start + timedelta(hours=1)
    )
    ann = join(provider, ANN, start)
    assert offers_make(service_id=service_of(provider).pk) == 0

    with django_capture_on_commit_callbacks(execute=True):
        blocked_time_delete(blocked_time=blocked)

    ann = WaitlistEntry.objects.get(pk=ann.pk)
    assert ann.status == EntryStatus.OFFERED and ann.offer_booking.start_at == start


def test_adding_an_open_rule_kicks_an_offer(django_capture_on_commit_callbacks, tasks_run_in_process):
    provider = ProviderFactory(timezone="UTC")  # no opening hours yet
    start = day_ahead()
    ann = join(provider, ANN, start)
    assert offers_make(service_id=service_of(provider).pk) == 0

    with django_capture_on_commit_callbacks(execute=True):
        availability_rule_create(
            provider=provider,
            rrule="FREQ=DAILY",
            starts_on=timezone.now().date(),
            start_time=time(10),
            end_time=time(10, 30),
        )

    ann = WaitlistEntry.objects.get(pk=ann.pk)
    assert ann.status == EntryStatus.OFFERED and ann.offer_booking.start_at == start
