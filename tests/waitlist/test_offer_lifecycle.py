"""What else can happen to an offer: the provider cancels it, someone tries to move it, it is declined
after it was confirmed, its time is close; and which messages the customer gets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from scheduling.errors import InvalidTransition
from scheduling.models import Booking, BookingStatus, CancelReason
from scheduling.services import booking_cancel, booking_confirm, booking_reschedule
from tests.factories import service_of
from tests.waitlist.conftest import ANN, BEN, CAT, book, join, one_slot_a_day_provider
from waitlist import services as waitlist_services
from waitlist import tasks as waitlist_tasks
from waitlist.models import EntryStatus, WaitlistMessage
from waitlist.services import offers_make, waitlist_accept, waitlist_decline

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(full_day):
    provider, start, dans = full_day
    ann, ben = join(provider, ANN, start), join(provider, BEN, start)
    booking_cancel(booking_id=dans.pk)
    assert offers_make(service_id=service_of(provider).pk) == 1
    ann.refresh_from_db()
    return provider, ann, ben


def test_an_offer_the_provider_cancels_puts_the_entry_back_in_its_place(offered):
    provider, ann, _ben = offered
    booking_cancel(booking_id=ann.offer_booking_id, reason=CancelReason.PROVIDER)

    ann.refresh_from_db()
    assert (ann.status, ann.offer_booking_id) == (EntryStatus.WAITING, None)
    assert not WaitlistMessage.objects.filter(entry=ann, kind="closed").exists()  # nothing was her doing
    assert offers_make(service_id=service_of(provider).pk) == 1
    ann.refresh_from_db()
    assert ann.status == EntryStatus.OFFERED  # still first in line, ahead of Ben


def test_a_held_offer_cannot_be_moved(offered):
    _provider, ann, _ben = offered
    with pytest.raises(InvalidTransition, match="waitlist"):
        booking_reschedule(booking_id=ann.offer_booking_id, start=ann.offer_booking.start_at + timedelta(days=1))


def test_a_declined_offer_sends_the_waitlists_message_not_a_booking_cancellation(offered):
    _provider, ann, _ben = offered
    waitlist_decline(entry_id=ann.pk)

    assert WaitlistMessage.objects.filter(entry=ann, kind="closed").exists()
    assert not Notification.objects.filter(booking_id=ann.offer_booking_id, kind="cancellation").exists()


def test_an_accepted_offer_tells_the_customer_once_by_the_waitlists_message(offered):
    _provider, ann, _ben = offered
    booking = waitlist_accept(entry_id=ann.pk)

    assert WaitlistMessage.objects.filter(entry=ann, kind="booked").exists()
    assert not Notification.objects.filter(booking=booking, kind="confirmation", recipient="customer").exists()
    assert booking.reminders.exists()  # reminders are scheduled as for any confirmed booking


def test_declining_an_offer_already_confirmed_is_refused_and_keeps_the_booking(offered, monkeypatch):
    _provider, ann, _ben = offered
    stale = waitlist_services._entry(ann.pk)  # read while still offered
    booking_confirm(booking_id=ann.offer_booking_id)  # staff confirm it meanwhile
    monkeypatch.setattr(waitlist_services, "_entry", lambda entry_id: stale)

    with pytest.raises(InvalidTransition):
        waitlist_decline(entry_id=ann.pk)

    assert Booking.objects.get(pk=ann.offer_booking_id).status == BookingStatus.CONFIRMED


def test_an_offer_ends_before_its_times_booking_notice(full_day):
    provider, start, dans = full_day
    service = service_of(provider)
    service.min_notice_minutes, service.waitlist_offer_minutes = 60, 30
    service.save()
    ann = join(provider, ANN, start)
    booking_cancel(booking_id=dans.pk)
    soon = start - timedelta(minutes=80)  # 20 minutes before the notice closes the slot

    offers_make(service_id=service.pk, now=soon)

    ann.refresh_from_db()
    assert ann.offer_expires_at <= start - timedelta(minutes=60)
    assert ann.offer_expires_at - timezone.now() < timedelta(minutes=25)  # 20: the notice cut it short


def test_a_time_too_close_for_a_useful_offer_is_not_offered(full_day):
    provider, start, dans = full_day
    service = service_of(provider)
    service.min_notice_minutes = 60
    service.save()
    ann = join(provider, ANN, start)
    booking_cancel(booking_id=dans.pk)

    assert offers_make(service_id=service.pk, now=start - timedelta(minutes=62)) == 0
    ann.refresh_from_db()
    assert ann.status == EntryStatus.WAITING


def test_the_sweep_goes_on_to_the_next_service_when_one_fails(full_day, monkeypatch):
    provider, start, dans = full_day
    other = one_slot_a_day_provider(name="Other")
    other_booking = book(other, BEN, start)
    ann, cat = join(provider, ANN, start), join(other, CAT, start)
    booking_cancel(booking_id=dans.pk)
    booking_cancel(booking_id=other_booking.pk)
    broken = service_of(provider).pk
    offer = waitlist_services.offers_make

    def failing_for_one(*, service_id, **kwargs):
        if service_id == broken:
            raise RuntimeError("a bug in one service's search")
        return offer(service_id=service_id, **kwargs)

    monkeypatch.setattr(waitlist_services, "offers_make", failing_for_one)

    assert waitlist_services.waitlist_sweep() == 1

    cat.refresh_from_db()
    ann.refresh_from_db()
    assert (ann.status, cat.status) == (EntryStatus.WAITING, EntryStatus.OFFERED)


def test_a_run_that_finds_many_free_times_stops_after_a_batch_and_hands_on_the_rest(
    full_day, monkeypatch, django_capture_on_commit_callbacks
):
    provider, start, dans = full_day
    monkeypatch.setattr(waitlist_services, "OFFERS_PER_RUN", 1)
    handed_on = []
    monkeypatch.setattr(waitlist_tasks, "kick_service_offers", handed_on.append)
    ann = join(provider, ANN, start)
    ben = join(provider, BEN, start + timedelta(days=1))
    booking_cancel(booking_id=dans.pk)  # Ann's day frees; Ben's day was free all along

    handed_on.clear()  # joining kicks a run too
    with django_capture_on_commit_callbacks(execute=True):
        assert offers_make(service_id=service_of(provider).pk) == 1

    ann.refresh_from_db()
    ben.refresh_from_db()
    assert (ann.status, ben.status) == (EntryStatus.OFFERED, EntryStatus.WAITING)
    assert handed_on == [service_of(provider).pk]  # the rest of the line is handed to the next run


def test_offers_for_a_service_deleted_since_the_task_was_sent_make_nothing():
    assert offers_make(service_id=987654321) == 0
