"""Confirm, cancel (with a reason), complete and no-show: detail buttons and list actions.

All go through the booking services; a refusal is an error message and leaves the booking as it was.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from payments.models import Payment
from scheduling.models import Booking, BookingStatus
from tests.admin.conftest import messages_of
from tests.factories import BookingFactory, ServiceFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/scheduling/booking/"


def at(hours: float):
    return (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def transition(client, booking, name):
    return client.post(f"/admin/scheduling/booking/{booking.pk}/transition/{name}/", follow=True)


def status_of(booking) -> str:
    return Booking.objects.get(pk=booking.pk).status


def act(client, action, *bookings, **extra):
    data = {"action": action, "_selected_action": [b.pk for b in bookings], "index": 0, **extra}
    return client.post(f"{LIST}?show=all", data, follow=True)  # from the "All" tab: cancelled rows shown too


# --- detail-page buttons --------------------------------------------------------------------------


def test_confirm_button_confirms_a_pending_booking(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(48))
    response = transition(as_superuser, booking, "confirm")
    assert response.status_code == 200
    assert status_of(booking) == BookingStatus.CONFIRMED
    assert any(m.startswith("Confirmed ") for m in messages_of(response))


def test_confirm_button_on_an_expired_hold_is_refused_with_a_message(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(48), hold_expires_at=at(-1))
    response = transition(as_superuser, booking, "confirm")
    assert response.status_code == 200
    assert status_of(booking) == BookingStatus.PENDING
    assert any("The hold on this booking has expired" in m for m in messages_of(response))


def test_complete_button_before_the_start_is_refused_with_a_message(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(48))
    response = transition(as_superuser, booking, "complete")
    assert response.status_code == 200
    assert status_of(booking) == BookingStatus.CONFIRMED
    assert any("A booking cannot be completed before it starts." in m for m in messages_of(response))


def test_complete_button_after_the_start_completes(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(-2))
    transition(as_superuser, booking, "complete")
    assert status_of(booking) == BookingStatus.COMPLETED


def test_no_show_button_after_the_start_marks_a_no_show(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(-2))
    transition(as_superuser, booking, "no_show")
    assert status_of(booking) == BookingStatus.NO_SHOW


def test_no_show_button_before_the_start_is_refused(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(5))
    response = transition(as_superuser, booking, "no_show")
    assert status_of(booking) == BookingStatus.CONFIRMED
    assert any("cannot be marked as a no-show before it starts" in m for m in messages_of(response))


def test_confirming_a_cancelled_booking_is_refused_with_the_services_reason(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.CANCELLED)
    response = transition(as_superuser, booking, "confirm")
    assert response.status_code == 200
    assert status_of(booking) == BookingStatus.CANCELLED
    assert any("Only a pending booking can be confirmed; this one is cancelled." in m for m in messages_of(response))


def test_transition_urls_refuse_get(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.PENDING)
    assert as_superuser.get(f"/admin/scheduling/booking/{booking.pk}/transition/confirm/").status_code == 405
    assert status_of(booking) == BookingStatus.PENDING


def test_unknown_transition_is_404(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a)
    assert as_superuser.post(f"/admin/scheduling/booking/{booking.pk}/transition/delete/").status_code == 404


def test_a_transition_is_recorded_in_the_history_with_a_local_time_label(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(48))
    transition(as_superuser, booking, "confirm")
    entry = LogEntry.objects.get(object_id=str(booking.pk))
    assert entry.get_change_message() == "Confirmed (through the booking service)."
    assert "(America/New_York)" in entry.object_repr and "Z" not in entry.object_repr.split("·")[1]


def test_cancel_page_asks_for_a_reason_and_shows_the_terms(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, start_at=at(48))
    body = as_superuser.get(f"/admin/scheduling/booking/{booking.pk}/cancel/").content.decode()
    assert 'name="reason" value="provider"' in body and 'name="reason" value="customer"' in body
    assert "Free cancellation until" in body
    assert status_of(booking) == BookingStatus.CONFIRMED


def test_cancel_page_cancels_with_the_chosen_reason(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, start_at=at(48))
    response = as_superuser.post(f"/admin/scheduling/booking/{booking.pk}/cancel/", {"reason": "provider"}, follow=True)
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == (BookingStatus.CANCELLED, "provider")
    assert any(m.startswith("Cancelled ") for m in messages_of(response))


def test_cancel_page_after_the_deadline_says_what_the_customer_would_pay(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, start_at=at(3))
    body = as_superuser.get(f"/admin/scheduling/booking/{booking.pk}/cancel/").content.decode()
    assert "if the\n    customer cancels now, they pay 25.00 USD." in body


def paid_at_the_venue(booking):
    """The refund is what was paid, less any fee: a booking never paid is refunded nothing."""
    Payment.objects.create(
        booking=booking, kind="charge", amount=booking.price, currency=booking.currency, gateway="at_venue",
        status="succeeded",
    )  # fmt: skip
    return booking


def test_customer_cancelling_after_the_deadline_pays_the_late_fee(as_superuser, provider_a):
    booking = paid_at_the_venue(BookingFactory(provider=provider_a, start_at=at(3)))  # free cancel ended 21 h ago
    as_superuser.post(f"/admin/scheduling/booking/{booking.pk}/cancel/", {"reason": "customer"})
    booking.refresh_from_db()
    assert (booking.cancellation_fee, booking.refund_amount) == (25, 75)


def test_provider_cancelling_after_the_deadline_charges_nothing(as_superuser, provider_a):
    booking = paid_at_the_venue(BookingFactory(provider=provider_a, start_at=at(3)))
    as_superuser.post(f"/admin/scheduling/booking/{booking.pk}/cancel/", {"reason": "provider"})
    booking.refresh_from_db()
    assert (booking.cancellation_fee, booking.refund_amount) == (0, 100)


def test_cancel_page_without_a_reason_is_a_form_error(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, start_at=at(48))
    response = as_superuser.post(f"/admin/scheduling/booking/{booking.pk}/cancel/", {})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert status_of(booking) == BookingStatus.CONFIRMED


def test_cancel_page_refuses_a_completed_booking_with_a_message(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.COMPLETED, start_at=at(-5))
    response = as_superuser.post(f"/admin/scheduling/booking/{booking.pk}/cancel/", {"reason": "provider"}, follow=True)
    assert status_of(booking) == BookingStatus.COMPLETED
    assert any("Only a pending or confirmed booking can be cancelled" in m for m in messages_of(response))


# --- list actions ---------------------------------------------------------------------------------


def test_confirm_action_confirms_the_pending_and_reports_each_refusal(as_superuser, provider_a):
    pending = BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(24))
    cancelled = BookingFactory(provider=provider_a, status=BookingStatus.CANCELLED, start_at=at(30))
    response = act(as_superuser, "confirm_selected", pending, cancelled)
    assert response.status_code == 200
    assert status_of(pending) == BookingStatus.CONFIRMED
    assert status_of(cancelled) == BookingStatus.CANCELLED
    found = messages_of(response)
    assert f"Confirmed 1 booking: {pending.reference}." in found
    assert any(m.startswith(cancelled.reference) and "this one is cancelled" in m for m in found)


def test_cancel_action_first_shows_a_page_to_pick_the_reason(as_superuser, provider_a):
    one = BookingFactory(provider=provider_a, start_at=at(24))
    two = BookingFactory(provider=provider_a, start_at=at(30))
    response = act(as_superuser, "cancel_selected", one, two)
    body = response.content.decode()
    assert "Cancel 2 bookings?" in body and 'name="reason"' in body
    assert status_of(one) == status_of(two) == BookingStatus.CONFIRMED


def test_cancel_action_with_a_reason_cancels_through_the_service(as_superuser, provider_a):
    one = BookingFactory(provider=provider_a, start_at=at(24))
    two = BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(30))
    response = act(as_superuser, "cancel_selected", one, two, apply="Cancel the bookings", reason="customer")
    for booking in (one, two):
        booking.refresh_from_db()
        assert (booking.status, booking.cancel_reason) == (BookingStatus.CANCELLED, "customer")
    assert any(m.startswith("Cancelled 2 bookings") for m in messages_of(response))


def test_cancel_action_with_an_unknown_reason_cancels_nothing(as_superuser, provider_a):
    one = BookingFactory(provider=provider_a, start_at=at(24))
    response = act(as_superuser, "cancel_selected", one, apply="Cancel the bookings", reason="expired")
    assert "Select a valid choice." in response.content.decode()
    assert status_of(one) == BookingStatus.CONFIRMED


def test_complete_action_before_the_start_is_refused_and_changes_nothing(as_superuser, provider_a):
    BookingFactory(provider=provider_a, start_at=at(-3))  # a started one: the action is offered
    booking = BookingFactory(provider=provider_a, start_at=at(24))
    response = act(as_superuser, "complete_selected", booking)
    assert response.status_code == 200
    assert status_of(booking) == BookingStatus.CONFIRMED
    assert any("A booking cannot be completed before it starts." in m for m in messages_of(response))


def test_complete_action_after_the_start_completes(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, start_at=at(-3))
    act(as_superuser, "complete_selected", booking)
    assert status_of(booking) == BookingStatus.COMPLETED


def test_no_show_action_after_the_start_marks_no_shows(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, start_at=at(-3))
    response = act(as_superuser, "mark_no_show_selected", booking)
    assert status_of(booking) == BookingStatus.NO_SHOW
    assert f"Marked as a no-show 1 booking: {booking.reference}." in messages_of(response)


def test_cancel_page_names_the_service_booked(as_superuser, provider_a):
    cleaning = ServiceFactory(name="Cleaning", providers=[provider_a], price="90.00", late_cancel_fee="30.00")
    booking = BookingFactory(provider=provider_a, service=cleaning, start_at=at(3))
    body = as_superuser.get(f"/admin/scheduling/booking/{booking.pk}/cancel/").content.decode()
    assert "Cleaning with Alpha Dental, as booked: the free-cancellation deadline" in body
    assert "they pay 30.00 USD." in body


# --- only what is legal now is offered --------------------------------------------------------------


def buttons_on(client, booking) -> set[str]:
    body = client.get(f"/admin/scheduling/booking/{booking.pk}/change/").content.decode()
    return set(re.findall(r'data-transition="(\w+)"', body))


def actions_on(client) -> set[str]:
    body = client.get(LIST).content.decode()
    return set(re.findall(r'<option value="(\w+_selected)"', body))


def test_complete_and_no_show_are_not_offered_before_the_start(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(1))
    assert buttons_on(as_superuser, booking) == {"cancel", "reschedule"}


def test_complete_and_no_show_are_offered_once_the_booking_has_started(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(-0.5))
    assert {"complete", "no_show", "cancel"} <= buttons_on(as_superuser, booking)


def test_a_pending_booking_offers_confirm_and_cancel_only(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(-0.5))
    assert buttons_on(as_superuser, booking) - {"reschedule"} == {"confirm", "cancel"}


def test_confirm_is_not_offered_once_the_hold_has_expired(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(48), hold_expires_at=at(-1))
    assert "confirm" not in buttons_on(as_superuser, booking)


def test_a_finished_booking_offers_no_transition(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.COMPLETED, start_at=at(-3))
    assert buttons_on(as_superuser, booking) == set()


def test_complete_and_no_show_actions_are_not_offered_while_no_booking_has_started(as_superuser, provider_a):
    BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(2))
    BookingFactory(provider=provider_a, status=BookingStatus.COMPLETED, start_at=at(-5))
    assert actions_on(as_superuser) == {"cancel_selected"}


def test_complete_and_no_show_actions_are_offered_once_a_booking_has_started(as_superuser, provider_a):
    BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(-1))
    assert actions_on(as_superuser) == {"cancel_selected", "complete_selected", "mark_no_show_selected"}


def test_the_confirm_action_is_offered_only_while_a_hold_runs(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.PENDING, start_at=at(48), hold_expires_at=at(-1))
    assert "confirm_selected" not in actions_on(as_superuser)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=at(1))
    assert "confirm_selected" in actions_on(as_superuser)


def test_actions_count_only_the_users_own_bookings(as_staff_a, provider_a, provider_b):
    BookingFactory(provider=provider_b, status=BookingStatus.CONFIRMED, start_at=at(-1))
    BookingFactory(provider=provider_a, status=BookingStatus.CONFIRMED, start_at=at(2))
    assert "complete_selected" not in actions_on(as_staff_a)
