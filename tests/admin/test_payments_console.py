"""Payments in the console: the booking page's section, "Refund…" (full, partial, refused over what was
paid), "Mark paid" for a charge due at the venue, the list's payment filter and column, the ledgers."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import GatewayCall, Payment
from payments.selectors import refundable_amount
from payments.services import checkout_charge, payment_mark_paid, payment_pay, payment_refund
from scheduling.models import Booking
from tests.admin.conftest import make_staff, messages_of
from tests.payments.conftest import book, paid_online_provider, run_gateway_calls
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db
LIST = "/admin/scheduling/booking/"
payments_permissions = importlib.import_module("payments.migrations.0003_provider_staff_view_permissions")


def page(booking) -> str:
    return f"{LIST}{booking.pk}/change/"


def refund(client, booking, amount, *, refundable=None):
    """Post the refund form as the browser does: the amount, and the hidden refundable it was shown with."""
    shown = refundable_amount(booking) if refundable is None else refundable
    return client.post(f"{LIST}{booking.pk}/refund/", {"amount": amount, "refundable": shown}, follow=True)


@pytest.fixture
def at_venue(db):
    return open_all_day_provider(slug="venue", price="50.00", currency="EUR", payment_mode="at_venue")


@pytest.fixture
def paid_booking(stripe_local) -> Booking:
    """A booking paid online through localstripe: 120.00 EUR."""
    booking = book(paid_online_provider(slug="online"))
    charge = checkout_charge(booking=booking)
    payment_pay(payment_id=charge.pk, card_token=stripe_local.card_token())
    return Booking.objects.get(pk=booking.pk)


def refunds_of(booking) -> list[Payment]:
    return list(Payment.objects.filter(booking=booking, kind=Payment.Kind.REFUND))


# --- the booking page -----------------------------------------------------------------------------


def test_the_booking_page_lists_its_payments_and_their_summary(as_superuser, paid_booking):
    charge = paid_booking.payments.get()
    html = as_superuser.get(page(paid_booking)).content.decode()
    assert "booking-payments" in html
    assert charge.reference in html and "120.00 EUR" in html and "Succeeded" in html
    assert "Paid (online). Due 0.00, paid 120.00, refunded 0.00 EUR." in html
    assert 'data-transition="refund"' in html


def test_a_booking_nothing_was_paid_for_offers_no_refund(as_superuser, at_venue):
    booking = book(at_venue)
    html = as_superuser.get(page(booking)).content.decode()
    assert 'data-transition="refund"' not in html
    assert 'data-transition="mark_paid"' in html


def test_the_refund_form_offers_everything_paid_and_not_yet_refunded(as_superuser, paid_booking):
    html = as_superuser.get(f"{LIST}{paid_booking.pk}/refund/").content.decode()
    assert 'value="120.00"' in html and "At most 120.00 EUR" in html


# --- refunds --------------------------------------------------------------------------------------


def test_a_full_refund_goes_through_the_service_and_then_the_gateway(as_superuser, paid_booking, superuser):
    response = refund(as_superuser, paid_booking, "120.00")
    assert any(m.startswith("Refunded 120.00 EUR of ") for m in messages_of(response))
    (row,) = refunds_of(paid_booking)
    assert (row.amount, row.reason, row.recorded_by, row.status) == (
        Decimal("120.00"),
        Payment.Reason.STAFF,
        superuser,
        Payment.Status.PENDING,
    )
    run_gateway_calls()
    row.refresh_from_db()
    assert row.status == Payment.Status.SUCCEEDED and row.reference.startswith("re_")
    assert "Refunded (online)" in as_superuser.get(page(paid_booking)).content.decode()


def test_a_partial_refund_leaves_the_rest_refundable(as_superuser, paid_booking):
    refund(as_superuser, paid_booking, "30.00")
    assert [r.amount for r in refunds_of(paid_booking)] == [Decimal("30.00")]
    html = as_superuser.get(f"{LIST}{paid_booking.pk}/refund/").content.decode()
    assert 'value="90.00"' in html
    run_gateway_calls()
    assert refunds_of(paid_booking)[0].status == Payment.Status.SUCCEEDED


def test_refunding_more_than_was_paid_shows_the_services_message_and_refunds_nothing(as_superuser, paid_booking):
    response = refund(as_superuser, paid_booking, "120.01")
    assert any("At most 120.00 EUR can be refunded" in m for m in messages_of(response))
    assert refunds_of(paid_booking) == []


def test_staff_of_another_provider_cannot_refund(client, staff_group, paid_booking, provider_b):
    client.force_login(make_staff(staff_group, provider_b))
    assert client.get(f"{LIST}{paid_booking.pk}/refund/").status_code == 404
    assert client.post(f"{LIST}{paid_booking.pk}/refund/", {"amount": "1.00"}).status_code == 404
    assert refunds_of(paid_booking) == []


def test_the_providers_staff_may_refund(client, staff_group, paid_booking):
    client.force_login(make_staff(staff_group, paid_booking.provider))
    refund(client, paid_booking, "10.00")
    assert [r.amount for r in refunds_of(paid_booking)] == [Decimal("10.00")]


# --- mark paid ------------------------------------------------------------------------------------


def test_mark_paid_records_the_charge_due_at_the_venue(as_superuser, at_venue, superuser):
    booking = book(at_venue)
    response = as_superuser.post(f"{LIST}{booking.pk}/mark-paid/", follow=True)
    charge = booking.payments.get()
    assert (charge.status, charge.recorded_by) == (Payment.Status.SUCCEEDED, superuser)
    assert any(m.startswith("Marked 50.00 EUR paid at the venue") for m in messages_of(response))


def test_mark_paid_when_nothing_is_due_says_so(as_superuser, at_venue, superuser):
    booking = book(at_venue)
    payment_mark_paid(payment_id=booking.payments.get().pk, user=superuser)
    response = as_superuser.post(f"{LIST}{booking.pk}/mark-paid/", follow=True)
    assert any("nothing is due at the venue" in m for m in messages_of(response))


# --- the list -------------------------------------------------------------------------------------


@pytest.fixture
def one_of_each(at_venue, paid_booking, stripe_local, superuser):
    unpaid = book(at_venue, future_slot(days=2))
    settled = book(at_venue, future_slot(days=4))
    payment_mark_paid(payment_id=settled.payments.get().pk, user=superuser)
    awaiting = book(paid_online_provider(slug="online-2"))
    free = book(open_all_day_provider(slug="free"))
    refunded = book(paid_online_provider(slug="online-3"))
    payment_pay(payment_id=checkout_charge(booking=refunded).pk, card_token=stripe_local.card_token())
    payment_refund(booking_id=refunded.pk, amount=Decimal("5.00"))
    return {"at_venue": unpaid, "paid": settled, "awaiting": awaiting, "none": free, "refunded": refunded}


@pytest.mark.parametrize("state", ["awaiting", "paid", "refunded", "at_venue", "none"])
def test_the_payment_filter_keeps_the_bookings_in_that_state(as_superuser, one_of_each, paid_booking, state):
    response = as_superuser.get(f"{LIST}?show=all&payment={state}")
    shown = {b.pk for b in response.context["cl"].result_list}
    expected = {one_of_each[state].pk} | ({paid_booking.pk} if state == "paid" else set())
    assert shown == expected


def test_the_list_shows_each_bookings_payment_without_a_query_per_row(as_superuser, at_venue, superuser):
    book(at_venue, future_slot(days=2))

    def statements() -> list:
        with CaptureQueriesContext(connection) as captured:
            response = as_superuser.get(f"{LIST}?show=all")
        assert "Awaiting payment" in response.content.decode()
        return captured.captured_queries

    few = statements()
    for day in range(3, 9):
        book(at_venue, future_slot(days=day))
    assert len(statements()) == len(few)


# --- the ledgers ----------------------------------------------------------------------------------


def test_staff_read_their_providers_payments_and_gateway_calls_only(
    client, staff_group, paid_booking, at_venue, provider_b
):
    payments_permissions.grant(django_apps)
    other = book(at_venue)
    refund_rows = [p.pk for p in Payment.objects.filter(booking=paid_booking)]
    client.force_login(make_staff(staff_group, paid_booking.provider))
    payment_refund(booking_id=paid_booking.pk, amount=Decimal("1.00"))
    listed = client.get("/admin/payments/payment/").context["cl"].result_list
    assert {p.booking_id for p in listed} == {paid_booking.pk}
    assert client.get(f"/admin/payments/payment/{other.payments.get().pk}/change/").status_code == 404
    assert client.get(f"/admin/payments/payment/{refund_rows[0]}/change/").status_code == 200
    calls = client.get("/admin/payments/gatewaycall/").context["cl"].result_list
    assert [c.action for c in calls] == [GatewayCall.Action.REFUND]
    assert client.post(f"/admin/payments/payment/{refund_rows[0]}/change/", {}).status_code == 403


def test_a_refund_form_sent_twice_refunds_once(as_superuser, paid_booking):
    shown = refundable_amount(paid_booking)
    refund(as_superuser, paid_booking, "30.00", refundable=shown)
    again = refund(as_superuser, paid_booking, "30.00", refundable=shown)  # the same form, sent again

    assert "The payments changed since this form was opened" in again.content.decode()
    assert [r.amount for r in refunds_of(paid_booking)] == [Decimal("30.00")]
