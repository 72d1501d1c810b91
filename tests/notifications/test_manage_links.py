"""Every customer email carries a working private manage link, made when the worker renders it;
staff emails never do. Pending requests notify both sides, and a lapse or a provider's cancellation
tells the customer why."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client
from django.utils import timezone

from notifications import services
from notifications.models import Notification, Reminder
from scheduling.models import Booking, CancelReason
from scheduling.services import (
    CustomerData,
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_expire_holds,
    booking_reschedule,
)
from tests.factories import UserFactory, service_of
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

SITE = "https://book.example"
ADA = CustomerData(name="Ada", email="ada@example.com", timezone="Asia/Tokyo")
LINK = re.compile(re.escape(SITE) + r"(/b/[A-Z0-9]+/[^/\s\"<]+/)")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def staffed(provider):
    desk = UserFactory(username="desk", email="desk@clinic.example", is_staff=True)
    desk.user_permissions.add(*Permission.objects.filter(codename__in=["view_booking", "change_booking"]))
    provider.staff.add(desk)
    return provider


def to(mailoutbox, address, subject_start=""):
    [message] = [m for m in mailoutbox if m.to == [address] and m.subject.startswith(subject_start)]
    return message


def opens(path: str, booking: Booking) -> bool:
    response = Client().get(path)
    return response.status_code == 200 and booking.reference in response.content.decode()


def manage_link(message) -> str:
    [path] = set(LINK.findall(message.body))
    [(html, _)] = message.alternatives
    assert SITE + path in html
    return path


def test_the_confirmation_email_carries_a_working_manage_link(staffed, mailoutbox):
    booking = booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)
    services.notifications_dispatch()
    assert opens(manage_link(to(mailoutbox, "ada@example.com")), booking)


def test_staff_emails_never_carry_the_customer_manage_link(staffed, mailoutbox):
    booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)
    services.notifications_dispatch()
    staff = to(mailoutbox, "desk@clinic.example")
    assert not LINK.search(staff.body)
    assert "/b/" not in staff.alternatives[0][0]


def test_the_reschedule_email_links_to_the_new_booking(staffed, mailoutbox):
    old = booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)
    new = booking_reschedule(booking_id=old.pk, start=future_slot(days=4))
    services.notifications_dispatch()
    path = manage_link(to(mailoutbox, "ada@example.com", "Booking moved"))
    assert f"/b/{new.reference}/" in path and opens(path, new)


def test_the_reminder_email_carries_a_working_manage_link(staffed, mailoutbox):
    booking = booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)
    due = timezone.now() - timedelta(minutes=1)
    Reminder.objects.filter(booking=booking).update(fire_at=due, next_attempt_at=due)
    assert services.reminders_dispatch().sent >= 1
    reminder = next(m for m in mailoutbox if m.subject.startswith("Reminder"))
    assert opens(manage_link(reminder), booking)


def pending(provider):
    service = service_of(provider)
    service.requires_confirmation = True
    service.save()
    return booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)


def test_a_request_tells_the_customer_with_a_link_and_the_staff_with_a_console_link(staffed, mailoutbox):
    booking = pending(staffed)
    assert sorted(booking.notifications.values_list("kind", "recipient", "address")) == [
        ("confirm_request", "provider", "desk@clinic.example"),
        ("request_received", "customer", "ada@example.com"),
    ]
    services.notifications_dispatch()

    customer = to(mailoutbox, "ada@example.com")
    assert customer.subject.startswith("Booking requested: ")
    assert "held for you until" in customer.body and "(Asia/Tokyo)" in customer.body
    assert opens(manage_link(customer), booking)

    staff = to(mailoutbox, "desk@clinic.example")
    console = f"{SITE}/admin/scheduling/booking/{booking.pk}/change/"
    assert staff.subject.startswith("To confirm: Ada, ")
    assert console in staff.body and console in staff.alternatives[0][0]
    desk = Client()
    desk.force_login(staffed.staff.get())
    assert desk.get(console.removeprefix(SITE)).status_code == 200


def test_request_notices_roll_back_with_the_booking(staffed):
    service = service_of(staffed)
    service.requires_confirmation = True
    service.save()
    with pytest.raises(RuntimeError), transaction.atomic():
        booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)
        assert Notification.objects.count() == 2  # written in the booking's own transaction
        raise RuntimeError("the caller's transaction fails")
    assert not Booking.objects.exists()
    assert not Notification.objects.exists()


def test_request_notices_still_queued_when_staff_confirmed_first_are_not_sent(staffed, mailoutbox):
    booking = pending(staffed)
    booking_confirm(booking_id=booking.pk)
    services.notifications_dispatch()
    assert {m.subject.split(":")[0] for m in mailoutbox} == {"Booking confirmed", "New booking"}
    assert set(booking.notifications.filter(kind__in=["request_received", "confirm_request"]).values_list(
        "status", flat=True
    )) == {"skipped"}  # fmt: skip


def test_an_expired_hold_tells_the_customer_why_in_their_zone(staffed, mailoutbox):
    booking = pending(staffed)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    assert booking_expire_holds() == 1
    services.notifications_dispatch()

    notice = to(mailoutbox, "ada@example.com", "Booking cancelled")
    assert "Reason: Hold expired" in notice.body
    assert "did not confirm your request before the time held for you ran out" in notice.body
    assert "(Asia/Tokyo)" in notice.subject and "(Asia/Tokyo)" in notice.body
    assert f"Choose another time: {SITE}/p/{staffed.slug}/" in notice.body
    assert opens(manage_link(notice), booking)


def test_a_provider_cancellation_tells_the_customer_it_was_the_provider_and_costs_nothing(staffed, mailoutbox):
    booking = booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)
    booking_cancel(booking_id=booking.pk, reason=CancelReason.PROVIDER)
    services.notifications_dispatch()

    notice = to(mailoutbox, "ada@example.com", "Booking cancelled")
    assert "Reason: Cancelled by the provider" in notice.body
    assert f"{staffed.name} cancelled this booking. Nothing is charged" in notice.body
    assert opens(manage_link(notice), booking)
    assert "cancelled this booking" not in to(mailoutbox, "desk@clinic.example", "Booking cancelled").body
