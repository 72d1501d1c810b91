"""The line: a freed slot is held for the first waiting entry, and goes on to the next only when
the first declines or lets the offer lapse."""

import pytest
from django.utils import timezone

from scheduling.models import Booking, BookingStatus, CancelReason
from scheduling.services import booking_cancel, booking_expire_holds
from tests.factories import service_of
from tests.waitlist.conftest import ANN, BEN, CAT, join
from waitlist.models import EntryStatus, WaitlistMessage
from waitlist.services import offers_make, waitlist_accept, waitlist_decline

pytestmark = pytest.mark.django_db


def statuses(*entries):
    for entry in entries:
        entry.refresh_from_db()
    return [entry.status for entry in entries]


def test_three_in_line_decline_lapse_accept(full_day):
    provider, start, dans = full_day
    service = service_of(provider)
    ann, ben, cat = (join(provider, who, start) for who in (ANN, BEN, CAT))
    assert offers_make(service_id=service.pk) == 0  # the day is full: nobody is offered anything

    booking_cancel(booking_id=dans.pk)
    assert offers_make(service_id=service.pk) == 1
    assert statuses(ann, ben, cat) == ["offered", "waiting", "waiting"]
    assert ann.offer_booking.start_at == start and ann.offer_booking.status == BookingStatus.PENDING
    assert ann.offer_booking.customer_email == "ann@example.com"

    waitlist_decline(entry_id=ann.pk)
    assert offers_make(service_id=service.pk) == 1
    assert statuses(ann, ben, cat) == ["withdrawn", "offered", "waiting"]

    Booking.objects.filter(pk=ben.offer_booking_id).update(hold_expires_at=timezone.now())
    booking_expire_holds()
    assert offers_make(service_id=service.pk) == 1
    assert statuses(ann, ben, cat) == ["withdrawn", "expired", "offered"]

    booking = waitlist_accept(entry_id=cat.pk)
    assert booking.status == BookingStatus.CONFIRMED and booking.start_at == start
    assert statuses(ann, ben, cat) == ["withdrawn", "expired", "booked"]
    assert Booking.objects.get(pk=ann.offer_booking_id).cancel_reason == CancelReason.DECLINED
    kinds = set(WaitlistMessage.objects.values_list("entry__customer_name", "kind"))
    assert {("Ann", "closed"), ("Ben", "closed"), ("Cat", "offer"), ("Cat", "booked")} <= kinds


def test_an_offer_holds_for_the_services_offer_minutes(full_day):
    provider, start, dans = full_day
    service = service_of(provider)
    service.waitlist_offer_minutes = 45
    service.save()
    ann = join(provider, ANN, start)
    booking_cancel(booking_id=dans.pk)
    before = timezone.now()
    offers_make(service_id=service.pk)
    ann.refresh_from_db()
    held = (ann.offer_expires_at - before).total_seconds()
    assert 45 * 60 - 5 < held <= 45 * 60 + 1
    assert ann.offer_expires_at == ann.offer_booking.hold_expires_at


def test_an_entry_whose_window_has_no_free_slot_keeps_its_place(full_day):
    provider, start, _dans = full_day
    ann = join(provider, ANN, start)
    assert offers_make(service_id=service_of(provider).pk) == 0
    assert statuses(ann) == [EntryStatus.WAITING]
