"""Create a booking from the admin: provider, date, one of the engine's free slots, customer.

The booking service decides; its refusals come back as form errors, a conflict with a link to the
booking it collided with.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from scheduling.models import Booking, BookingStatus, Customer
from scheduling.selectors import provider_slots
from scheduling.services import CustomerData, booking_create
from tests.admin.conftest import messages_of, open_all_day
from tests.factories import CustomerFactory, ProviderFactory, ServiceFactory, service_of

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
ADD = "/admin/scheduling/booking/add/"


def day_ahead(provider, days=3):
    return timezone.now().astimezone(provider.timezone).date() + timedelta(days=days)


def step3(provider, day):
    return f"{ADD}?provider={provider.pk}&date={day}"


def local(day, hour, minute=0, zone=NY):
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def iso(value: datetime) -> str:
    """How the slot picker posts a start: ISO 8601 in UTC."""
    return value.astimezone(UTC).isoformat()


def search(client, provider, query: str) -> str:
    """The "Search" button of step 5, as a browser without JavaScript posts it."""
    day = day_ahead(provider)
    return client.post(step3(provider, day), {"customer_search": query, "_search": "1"}).content.decode()


def new_customer(**overrides):
    return {"name": "Ada Lovelace", "email": "ada@example.com", "timezone": "Europe/London", **overrides}


def test_step_one_lists_only_my_active_providers(as_staff_a, staff_a, staff_group, provider_a, provider_b):
    retired = ProviderFactory(name="Retired Chair", is_active=False)
    retired.staff.add(staff_a)
    body = as_staff_a.get(ADD).content.decode()
    assert "Alpha Dental (America/New_York)" in body
    assert "Beta Rooms" not in body and "Retired Chair" not in body


def test_step_two_shows_14_days_with_the_engines_free_slot_counts(as_superuser, provider_a):
    body = as_superuser.get(f"{ADD}?provider={provider_a.pk}").content.decode()
    first = timezone.now().astimezone(NY).date()
    slots = provider_slots(
        provider=provider_a, service=service_of(provider_a), first=first, last=first + timedelta(days=13)
    )
    assert body.count('data-date="') == 14
    day = first + timedelta(days=2)
    count = sum(1 for s in slots if s.start.astimezone(NY).date() == day)
    assert (
        f'data-date="{day}" class="">\n        <span>{day:%a} {day.day} {day:%b}</span><span>{count} free</span>'
        in body
    )


def test_step_three_offers_the_engines_slots_for_the_day_in_the_provider_zone(as_superuser):
    provider = ProviderFactory(name="Morning Clinic", timezone="America/New_York")
    from tests.factories import AvailabilityRuleFactory

    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(10, 30))
    day = day_ahead(provider)
    body = as_superuser.get(step3(provider, day)).content.decode()
    expected = provider_slots(provider=provider, service=service_of(provider), first=day, last=day)
    assert len(expected) == 3
    for slot in expected:
        assert f'value="{iso(slot.start)}"' in body
    zone = local(day, 9).strftime("%Z")
    assert f"09:00 {zone}–09:30 {zone}" in body and f"10:00 {zone}–10:30 {zone}" in body


def test_creating_a_booking_for_a_new_customer_goes_through_the_service(as_superuser, provider_a):
    day = day_ahead(provider_a)
    start = local(day, 10)
    response = as_superuser.post(step3(provider_a, day), {"slot": iso(start), **new_customer(), "notes": "first visit"})
    booking = Booking.objects.get()
    assert response.status_code == 302 and response.url == f"/admin/scheduling/booking/{booking.pk}/change/"
    assert (booking.start_at, booking.status, booking.notes) == (start, BookingStatus.CONFIRMED, "first visit")
    assert (booking.customer.email, str(booking.customer_timezone)) == ("ada@example.com", "Europe/London")
    assert booking.end_at - booking.start_at == timedelta(minutes=30)  # the service set the rest


def test_a_provider_that_needs_confirmation_gets_a_pending_hold(as_superuser, provider_a):
    service = service_of(provider_a)
    service.requires_confirmation = True
    service.save()
    day = day_ahead(provider_a)
    response = as_superuser.post(step3(provider_a, day), {"slot": iso(local(day, 11)), **new_customer()}, follow=True)
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.PENDING and booking.hold_expires_at is not None
    assert any(m.startswith(f"Booked {booking.reference}") and "(pending)" in m for m in messages_of(response))


def test_creating_a_booking_for_an_existing_customer(as_superuser, provider_a):
    customer = CustomerFactory(name="Grace Hopper", timezone="Asia/Tokyo")
    day = day_ahead(provider_a)
    as_superuser.post(step3(provider_a, day), {"slot": iso(local(day, 12)), "customer": customer.pk})
    booking = Booking.objects.get()
    assert booking.customer == customer and str(booking.customer_timezone) == "Asia/Tokyo"
    assert Customer.objects.count() == 1


def test_a_slot_taken_meanwhile_is_a_form_error_linking_to_the_conflicting_booking(as_superuser, provider_a):
    day = day_ahead(provider_a)
    start = local(day, 14)
    page = as_superuser.get(step3(provider_a, day)).content.decode()
    assert f'value="{iso(start)}"' in page  # offered when the page was drawn
    winner = booking_create(
        provider_id=provider_a.pk, start=start, customer=CustomerData(name="W", email="w@example.com")
    )
    response = as_superuser.post(step3(provider_a, day), {"slot": iso(start), **new_customer()})
    body = response.content.decode()
    assert response.status_code == 200
    assert "This slot has just been taken." in body
    assert f'<a href="/admin/scheduling/booking/{winner.pk}/change/">booking {winner.reference}' in body
    assert Booking.objects.count() == 1 and not Customer.objects.filter(email="ada@example.com").exists()


def test_an_overlap_through_buffers_is_a_form_error_linking_to_the_conflicting_booking(as_superuser):
    provider = open_all_day(name="Buffered", timezone="America/New_York", buffer_after_minutes=30)
    day = day_ahead(provider)
    first = booking_create(
        provider_id=provider.pk, start=local(day, 9), customer=CustomerData(name="F", email="f@example.com")
    )
    response = as_superuser.post(step3(provider, day), {"slot": iso(local(day, 9, 30)), **new_customer()})
    assert f'<a href="/admin/scheduling/booking/{first.pk}/change/">' in response.content.decode()
    assert Booking.objects.count() == 1


def test_an_off_grid_start_is_a_form_error_on_the_slot(as_superuser, provider_a):
    day = day_ahead(provider_a)
    response = as_superuser.post(step3(provider_a, day), {"slot": iso(local(day, 10, 7)), **new_customer()})
    assert response.status_code == 200
    assert response.context["form"].errors["slot"] == [
        "No slot starts at this time: it is off the slot grid, outside opening hours, or blocked."
    ]
    assert not Booking.objects.exists()


def test_a_start_in_the_past_is_a_form_error_on_the_slot(as_superuser, provider_a):
    yesterday = day_ahead(provider_a, days=-1)
    response = as_superuser.post(step3(provider_a, yesterday), {"slot": iso(local(yesterday, 10)), **new_customer()})
    assert response.context["form"].errors["slot"] == ["This time is in the past."]


def test_a_naive_slot_value_is_refused(as_superuser, provider_a):
    day = day_ahead(provider_a)
    response = as_superuser.post(step3(provider_a, day), {"slot": f"{day}T10:00:00", **new_customer()})
    assert response.context["form"].errors["slot"] == ["Pick one of the free slots."]
    assert not Booking.objects.exists()


def test_no_customer_at_all_is_a_form_error(as_superuser, provider_a):
    day = day_ahead(provider_a)
    response = as_superuser.post(step3(provider_a, day), {"slot": iso(local(day, 10))})
    assert response.context["form"].errors["email"] == ["Pick an existing customer, or enter the new customer's email."]


def test_a_new_customer_without_a_name_shows_the_services_error_on_the_name(as_superuser, provider_a):
    day = day_ahead(provider_a)
    response = as_superuser.post(step3(provider_a, day), {"slot": iso(local(day, 10)), **new_customer(name="")})
    assert response.context["form"].errors["name"] == ["Enter the customer's name."]
    assert not Booking.objects.exists()


def test_a_fixed_offset_customer_zone_is_refused(as_superuser, provider_a):
    day = day_ahead(provider_a)
    response = as_superuser.post(
        step3(provider_a, day),
        {"slot": iso(local(day, 10)), **new_customer(timezone="Etc/GMT+5")},
    )
    assert "Unknown time zone" in response.context["form"].errors["timezone"][0]


def test_a_day_without_free_slots_says_so(as_superuser):
    provider = ProviderFactory(name="Never Open")
    day = day_ahead(provider)
    assert "No free slots on this day." in as_superuser.get(step3(provider, day)).content.decode()


def test_the_create_flow_of_another_providers_staff_is_404(as_staff_b, provider_a):
    day = day_ahead(provider_a)
    assert as_staff_b.get(f"{ADD}?provider={provider_a.pk}").status_code == 404
    response = as_staff_b.post(step3(provider_a, day), {"slot": iso(local(day, 10)), **new_customer()})
    assert response.status_code == 404
    assert not Booking.objects.exists()


def test_staff_can_pick_only_customers_who_booked_their_providers(as_staff_b, provider_a, provider_b):
    from tests.factories import BookingFactory

    mine = BookingFactory(provider=provider_b, customer=CustomerFactory(name="Berlin Regular")).customer
    theirs = BookingFactory(provider=provider_a, customer=CustomerFactory(name="New York Regular")).customer
    body = search(as_staff_b, provider_b, "Regular")
    assert f'value="{mine.pk}"' in body and "Berlin Regular" in body and theirs.name not in body


def test_the_add_link_of_the_booking_list_opens_the_slot_picker(as_superuser, provider_a):
    body = as_superuser.get(ADD).content.decode()
    assert "1. Provider" in body and 'name="provider"' in body


def test_a_provider_with_several_services_asks_which_one_before_the_date(as_superuser, provider_a):
    cleaning = ServiceFactory(name="Cleaning", duration_minutes=60, providers=[provider_a])
    body = as_superuser.get(f"{ADD}?provider={provider_a.pk}").content.decode()
    assert "— choose what is booked —" in body
    assert f'<option value="{cleaning.pk}">Cleaning (1 hour, 0.00 USD)</option>' in body
    assert 'data-date="' not in body  # no dates before a service is chosen


def test_a_provider_with_one_service_has_it_preselected(as_superuser, provider_a):
    body = as_superuser.get(f"{ADD}?provider={provider_a.pk}").content.decode()
    assert f'<option value="{service_of(provider_a).pk}" selected>Alpha Dental' in body
    assert body.count('data-date="') == 14


def test_the_chosen_service_is_booked_with_the_chosen_provider_at_its_length(as_superuser, provider_a):
    cleaning = ServiceFactory(name="Cleaning", duration_minutes=60, price="80.00", providers=[provider_a])
    day = day_ahead(provider_a)
    url = f"{ADD}?provider={provider_a.pk}&service={cleaning.pk}&date={day}"
    assert f'value="{iso(local(day, 10, 30))}"' not in as_superuser.get(url).content.decode()  # hourly steps
    response = as_superuser.post(url, {"slot": iso(local(day, 10)), **new_customer()})
    assert response.status_code == 302, response.content.decode()[:3000]
    booking = Booking.objects.get()
    assert (booking.service, booking.provider, booking.end_at - booking.start_at) == (
        cleaning,
        provider_a,
        timedelta(hours=1),
    )
    assert str(booking.price) == "80.00"


def test_a_service_the_provider_does_not_offer_is_404(as_superuser, provider_a, provider_b):
    url = f"{ADD}?provider={provider_a.pk}&service={service_of(provider_b).pk}"
    assert as_superuser.get(url).status_code == 404


def test_existing_customers_are_never_listed_all_at_once(as_superuser, provider_a):
    names = [f"Regular {n:02d}" for n in range(30)]
    for name in names:
        CustomerFactory(name=name)
    body = as_superuser.get(step3(provider_a, day_ahead(provider_a))).content.decode()
    assert not any(name in body for name in names)
    assert '<select name="customer"' not in body  # no dropdown of customers
    assert "Search above to pick someone who booked before." in body


def test_searching_offers_only_the_matching_customers(as_superuser, provider_a):
    zelda = CustomerFactory(name="Zelda Fitzgerald", email="zelda@example.org")
    CustomerFactory(name="Scott Fitzgerald")
    CustomerFactory(name="Ernest Hemingway", email="papa@example.org")
    body = search(as_superuser, provider_a, "zel")
    assert f'value="{zelda.pk}"' in body and "Zelda Fitzgerald &lt;zelda@example.org&gt;" in body
    assert "Scott" not in body and "Hemingway" not in body
    by_email = search(as_superuser, provider_a, "papa@")
    assert "Ernest Hemingway" in by_email and "Zelda" not in by_email


def test_a_search_keeps_the_chosen_slot_and_creates_nothing(as_superuser, provider_a):
    CustomerFactory(name="Zelda Fitzgerald")
    day = day_ahead(provider_a)
    slot = iso(local(day, 11))
    body = as_superuser.post(
        step3(provider_a, day), {"slot": slot, "customer_search": "zelda", "_search": "1"}
    ).content.decode()
    checked = body.split(f'value="{slot}"')[1].split(">")[0]
    assert "checked" in checked
    assert 'class="errorlist' not in body and not Booking.objects.exists()


def test_a_customer_found_by_search_is_booked_with_their_booked_details(as_staff_b, provider_b):
    from tests.factories import BookingFactory

    regular = BookingFactory(provider=provider_b, customer=CustomerFactory(name="Berlin Regular")).customer
    day = day_ahead(provider_b)
    start = datetime.combine(day, time(11), tzinfo=provider_b.timezone)
    as_staff_b.post(step3(provider_b, day), {"slot": iso(start), "customer": regular.pk})
    assert Booking.objects.filter(customer=regular, start_at=start).exists()


def test_a_search_without_matches_says_so(as_superuser, provider_a):
    assert "No customer who booked before matches “nobody”" in search(as_superuser, provider_a, "nobody")


def test_many_matches_are_capped_and_say_to_narrow_down(as_superuser, provider_a):
    for n in range(25):
        CustomerFactory(name=f"Regular {n:02d}")
    body = search(as_superuser, provider_a, "regular")
    assert body.count('name="customer" value="') == 1 + 20  # "a new customer" and the first 20
    assert "Showing the first 20 matches" in body


def test_the_steps_are_numbered_consistently_out_of_five(as_superuser, provider_a):
    body = as_superuser.get(step3(provider_a, day_ahead(provider_a))).content.decode()
    for n, name in enumerate(["Provider", "Service", "Date", "Time", "Customer"], start=1):
        assert f"{n}. {name}</li>" in body
        assert f"Step {n} of 5: {name}" in body


@pytest.mark.parametrize(("asked", "kept"), [("de", "de"), (None, "en")], ids=["asked", "default"])
def test_staff_book_in_the_customers_language_not_their_own(as_superuser, provider_a, asked, kept):
    day = day_ahead(provider_a)
    url = f"{ADD}?provider={provider_a.pk}&date={day}"
    data = {"slot": iso(local(day, 10)), **new_customer(), **({"language": asked} if asked else {})}
    response = as_superuser.post(url, data, HTTP_ACCEPT_LANGUAGE="en-us")
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Booking.objects.get().language == kept
