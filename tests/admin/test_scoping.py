"""Staff of provider B cannot list, open or act on provider A's objects; superusers see everything."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from scheduling.models import AvailabilityRule, BlockedTime, Booking, BookingStatus
from scheduling.services import CustomerData, booking_create
from tests.admin.conftest import make_staff, management_data, slot_in
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


# --- a customer shared by email: each provider's staff see only what was typed for their bookings -------------


@pytest.fixture
def carol(provider_a, provider_b):
    """Carol booked A as "Carol Ames"; B's staff later booked her (same email) as "C. Berg"."""
    at_a = booking_create(
        provider_id=provider_a.pk,
        start=slot_in(3, hour=14),
        customer=CustomerData("Carol Ames", "carol@example.com", "+15550001111", "Asia/Tokyo"),
    )
    at_b = booking_create(
        provider_id=provider_b.pk,
        start=slot_in(3, hour=15),
        customer=CustomerData("C. Berg", "Carol@Example.com", "+49301234567", "Europe/Berlin"),
    )
    return at_a, at_b


A_TYPED = ("Carol Ames", "+15550001111")


def test_staff_of_b_list_and_search_their_booking_by_what_they_typed(as_staff_b, carol):
    at_a, at_b = carol
    body = as_staff_b.get("/admin/scheduling/booking/").content.decode()
    assert "C. Berg" in body and at_b.reference in body
    assert at_a.reference not in body and not any(value in body for value in A_TYPED)
    assert at_b.reference in as_staff_b.get("/admin/scheduling/booking/?q=Berg").content.decode()
    # Searching the shared record's name would tell B's staff what was typed for A.
    assert at_b.reference not in as_staff_b.get("/admin/scheduling/booking/?q=Ames").content.decode()


def test_staff_of_b_see_their_booking_page_with_what_they_typed_and_no_customer_record(as_staff_b, carol):
    at_a, at_b = carol
    body = as_staff_b.get(f"/admin/scheduling/booking/{at_b.pk}/change/").content.decode()
    assert "C. Berg &lt;Carol@Example.com&gt; · +49301234567" in body
    assert not any(value in body for value in A_TYPED)
    assert "/admin/scheduling/customer/" not in body
    assert as_staff_b.get(f"/admin/scheduling/booking/{at_a.pk}/change/").status_code == 404
    assert as_staff_b.post(f"/admin/scheduling/booking/{at_a.pk}/cancel/", {"reason": "provider"}).status_code == 404
    assert Booking.objects.get(pk=at_a.pk).status == BookingStatus.CONFIRMED


def test_staff_of_b_see_what_they_typed_on_the_agenda_and_the_cancel_page(as_staff_b, provider_b, carol):
    _, at_b = carol
    day = at_b.start_at.astimezone(provider_b.timezone).date()
    agenda = as_staff_b.get(f"/admin/scheduling/provider/{provider_b.pk}/agenda/day/?date={day}").content.decode()
    cancel = as_staff_b.get(f"/admin/scheduling/booking/{at_b.pk}/cancel/").content.decode()
    for body in (agenda, cancel):
        assert "C. Berg" in body and "Carol Ames" not in body


def test_staff_never_open_the_shared_customer_records(as_staff_b, staff_b, carol):
    from django.contrib.auth.models import Permission

    staff_b.user_permissions.add(*Permission.objects.filter(codename__endswith="_customer"))  # even if granted
    customer_id = carol[1].customer_id
    assert "/admin/scheduling/customer/" not in as_staff_b.get("/admin/").content.decode()
    assert as_staff_b.get("/admin/scheduling/customer/").status_code == 403
    assert as_staff_b.get(f"/admin/scheduling/customer/{customer_id}/change/").status_code == 403
    assert as_staff_b.post(f"/admin/scheduling/customer/{customer_id}/change/", {"name": "X"}).status_code == 403
    autocomplete = "/admin/autocomplete/?app_label=scheduling&model_name=booking&field_name=customer&term=Carol"
    assert as_staff_b.get(autocomplete).status_code == 403


def test_superusers_open_the_customer_record_behind_a_booking(as_superuser, carol):
    _, at_b = carol
    body = as_superuser.get(f"/admin/scheduling/booking/{at_b.pk}/change/").content.decode()
    assert "C. Berg &lt;Carol@Example.com&gt;" in body
    assert f'href="/admin/scheduling/customer/{at_b.customer_id}/change/"' in body
    record = as_superuser.get(f"/admin/scheduling/customer/{at_b.customer_id}/change/").content.decode()
    assert "Carol Ames" in record


def test_staff_of_b_book_a_returning_customer_with_the_details_typed_for_their_own_booking(
    as_staff_b, provider_b, carol
):
    _, at_b = carol
    day = at_b.start_at.astimezone(provider_b.timezone).date()
    url = f"/admin/scheduling/booking/add/?provider={provider_b.pk}&date={day}"
    page = as_staff_b.post(url, {"customer_search": "carol", "_search": "1"}).content.decode()
    assert "C. Berg &lt;Carol@Example.com&gt;" in page and "Carol Ames" not in page
    # The search reads the details given with their own bookings, never the shared record's.
    assert "C. Berg" not in as_staff_b.post(url, {"customer_search": "Ames", "_search": "1"}).content.decode()
    slot = (at_b.start_at + timedelta(hours=2)).astimezone(UTC).isoformat()
    assert as_staff_b.post(url, {"slot": slot, "customer": at_b.customer_id}).status_code == 302
    again = Booking.objects.latest("created_at")
    details = (again.customer_name, again.customer_email, again.customer_phone, str(again.customer_timezone))
    assert details == ("C. Berg", "Carol@Example.com", "+49301234567", "Europe/Berlin")
    assert again.customer_id == at_b.customer_id


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
