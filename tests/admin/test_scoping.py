"""Staff of provider B cannot list, open or act on provider A's objects; superusers see everything."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from scheduling.models import AvailabilityRule, BlockedTime, Booking, BookingStatus
from tests.admin.conftest import make_staff, management_data
from tests.factories import AvailabilityRuleFactory, BlockedTimeFactory, BookingFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking_a(provider_a):
    return BookingFactory(provider=provider_a, status=BookingStatus.PENDING, customer=CustomerFactory(name="Ann A"))


@pytest.fixture
def booking_b(provider_b):
    return BookingFactory(provider=provider_b, status=BookingStatus.PENDING, customer=CustomerFactory(name="Ben B"))


def test_staff_list_only_their_providers(as_staff_b, provider_a, provider_b):
    body = as_staff_b.get("/admin/scheduling/provider/").content.decode()
    assert "Beta Rooms" in body and "Alpha Dental" not in body


def test_staff_cannot_open_another_providers_page(as_staff_b, provider_a):
    assert as_staff_b.get(f"/admin/scheduling/provider/{provider_a.pk}/change/").status_code == 404


def test_staff_cannot_change_another_provider_by_posting(as_staff_b, provider_a):
    response = as_staff_b.post(f"/admin/scheduling/provider/{provider_a.pk}/change/", {"name": "Hijacked"})
    assert response.status_code == 404
    provider_a.refresh_from_db()
    assert provider_a.name == "Alpha Dental"


def test_staff_cannot_add_or_delete_providers(as_staff_a, provider_a):
    assert as_staff_a.get("/admin/scheduling/provider/add/").status_code == 403
    assert as_staff_a.get(f"/admin/scheduling/provider/{provider_a.pk}/delete/").status_code == 403


def test_staff_list_only_their_providers_bookings(as_staff_b, booking_a, booking_b):
    body = as_staff_b.get("/admin/scheduling/booking/").content.decode()
    assert booking_b.reference in body and booking_a.reference not in body


def test_staff_provider_filter_offers_only_their_providers(as_staff_b, booking_a, booking_b):
    body = as_staff_b.get("/admin/scheduling/booking/").content.decode()
    assert "Alpha Dental" not in body


def test_staff_cannot_open_another_providers_booking(as_staff_b, booking_a):
    assert as_staff_b.get(f"/admin/scheduling/booking/{booking_a.pk}/change/").status_code == 404
    assert as_staff_b.get(f"/admin/scheduling/booking/{booking_a.pk}/history/").status_code == 404


def test_staff_cannot_confirm_another_providers_booking_with_the_button(as_staff_b, booking_a):
    response = as_staff_b.post(f"/admin/scheduling/booking/{booking_a.pk}/transition/confirm/")
    assert response.status_code == 404
    assert Booking.objects.get(pk=booking_a.pk).status == BookingStatus.PENDING


def test_staff_cannot_cancel_another_providers_booking(as_staff_b, booking_a):
    assert as_staff_b.get(f"/admin/scheduling/booking/{booking_a.pk}/cancel/").status_code == 404
    assert (
        as_staff_b.post(f"/admin/scheduling/booking/{booking_a.pk}/cancel/", {"reason": "provider"}).status_code == 404
    )
    assert Booking.objects.get(pk=booking_a.pk).status == BookingStatus.PENDING


def test_staff_actions_skip_another_providers_bookings(as_staff_b, booking_a, booking_b):
    as_staff_b.post(
        "/admin/scheduling/booking/",
        {"action": "confirm_selected", "_selected_action": [booking_a.pk, booking_b.pk], "index": 0},
    )
    assert Booking.objects.get(pk=booking_a.pk).status == BookingStatus.PENDING
    assert Booking.objects.get(pk=booking_b.pk).status == BookingStatus.CONFIRMED


def test_staff_cancel_action_skips_another_providers_bookings(as_staff_b, booking_a):
    as_staff_b.post(
        "/admin/scheduling/booking/",
        {"action": "cancel_selected", "_selected_action": [booking_a.pk], "apply": "1", "reason": "provider"},
    )
    assert Booking.objects.get(pk=booking_a.pk).status == BookingStatus.PENDING


def test_staff_list_only_their_providers_rules(as_staff_b, provider_a, provider_b):
    AvailabilityRuleFactory(provider=provider_a, label="alpha-hours")
    AvailabilityRuleFactory(provider=provider_b, label="beta-hours")
    body = as_staff_b.get("/admin/scheduling/availabilityrule/").content.decode()
    assert "beta-hours" in body and "alpha-hours" not in body


def test_staff_cannot_open_or_delete_another_providers_rule(as_staff_b, provider_a):
    rule = provider_a.rules.get()
    assert as_staff_b.get(f"/admin/scheduling/availabilityrule/{rule.pk}/change/").status_code == 404
    assert as_staff_b.post(f"/admin/scheduling/availabilityrule/{rule.pk}/delete/", {"post": "yes"}).status_code == 404
    assert AvailabilityRule.objects.filter(pk=rule.pk).exists()


def test_staff_cannot_add_a_rule_to_another_provider(as_staff_b, provider_a):
    response = as_staff_b.post(
        "/admin/scheduling/availabilityrule/add/",
        {
            "provider": provider_a.pk, "kind": "closed", "rrule": "FREQ=DAILY", "starts_on": "2027-01-01",
            "start_time": "00:00", "end_time": "00:00",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not provider_a.rules.filter(kind="closed").exists()


def test_staff_provider_choices_are_only_their_providers(as_staff_b, provider_a, provider_b):
    body = as_staff_b.get("/admin/scheduling/blockedtime/add/").content.decode()
    assert f'<option value="{provider_b.pk}">Beta Rooms</option>' in body
    assert "Alpha Dental" not in body


def test_staff_list_only_their_providers_blocked_times(as_staff_b, provider_a, provider_b):
    BlockedTimeFactory(provider=provider_a, note="alpha-off")
    BlockedTimeFactory(provider=provider_b, note="beta-off")
    body = as_staff_b.get("/admin/scheduling/blockedtime/").content.decode()
    assert "beta-off" in body and "alpha-off" not in body


def test_staff_cannot_open_or_delete_another_providers_blocked_time(as_staff_b, provider_a):
    blocked = BlockedTimeFactory(provider=provider_a)
    assert as_staff_b.get(f"/admin/scheduling/blockedtime/{blocked.pk}/change/").status_code == 404
    response = as_staff_b.post(f"/admin/scheduling/blockedtime/{blocked.pk}/delete/", {"post": "yes"})
    assert response.status_code == 404
    assert BlockedTime.objects.filter(pk=blocked.pk).exists()


def test_staff_cannot_block_time_for_another_provider(as_staff_b, provider_a):
    response = as_staff_b.post(
        "/admin/scheduling/blockedtime/add/",
        {
            "provider": provider_a.pk, "start_at_0": "2031-01-15", "start_at_1": "09:00",
            "end_at_0": "2031-01-15", "end_at_1": "10:00", "reason": "personal",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert not BlockedTime.objects.exists()


def test_staff_can_manage_their_own_providers_blocked_times(as_staff_b, provider_b):
    response = as_staff_b.post(
        "/admin/scheduling/blockedtime/add/",
        {
            "provider": provider_b.pk, "start_at_0": "2031-01-15", "start_at_1": "09:00",
            "end_at_0": "2031-01-15", "end_at_1": "10:00", "reason": "personal",
        },
    )  # fmt: skip
    assert response.status_code == 302
    assert BlockedTime.objects.get().provider == provider_b


def test_staff_see_only_customers_who_booked_their_providers(as_staff_b, booking_a, booking_b):
    body = as_staff_b.get("/admin/scheduling/customer/").content.decode()
    assert "Ben B" in body and "Ann A" not in body
    assert as_staff_b.get(f"/admin/scheduling/customer/{booking_a.customer_id}/change/").status_code == 404


def test_staff_of_both_providers_see_both(client, staff_group, provider_a, provider_b, booking_a, booking_b):
    client.force_login(make_staff(staff_group, provider_a, provider_b))
    body = client.get("/admin/scheduling/booking/").content.decode()
    assert booking_a.reference in body and booking_b.reference in body


def test_superuser_sees_every_providers_bookings(as_superuser, booking_a, booking_b):
    body = as_superuser.get("/admin/scheduling/booking/").content.decode()
    assert booking_a.reference in body and booking_b.reference in body


def test_staff_can_confirm_their_own_providers_booking(as_staff_b, booking_b):
    as_staff_b.post(f"/admin/scheduling/booking/{booking_b.pk}/transition/confirm/")
    assert Booking.objects.get(pk=booking_b.pk).status == BookingStatus.CONFIRMED


def test_staff_can_create_a_booking_for_their_provider(as_staff_b, provider_b):
    day = timezone.now().astimezone(provider_b.timezone).date() + timedelta(days=2)
    start = datetime.combine(day, time(10), tzinfo=provider_b.timezone)
    response = as_staff_b.post(
        f"/admin/scheduling/booking/add/?provider={provider_b.pk}&date={day}",
        {"slot": start.astimezone(UTC).isoformat(), "name": "Cleo", "email": "cleo@example.com", "timezone": "UTC"},
    )
    assert response.status_code == 302
    assert Booking.objects.get().provider == provider_b


def test_staff_can_save_notes_on_their_providers_booking(as_staff_b, booking_b):
    url = f"/admin/scheduling/booking/{booking_b.pk}/change/"
    response = as_staff_b.post(url, {**management_data(as_staff_b.get(url).content.decode()), "notes": "VIP"})
    assert response.status_code == 302
    assert Booking.objects.get(pk=booking_b.pk).notes == "VIP"
