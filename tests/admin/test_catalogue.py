"""Services in the console: the list, scoping like providers, writes through the catalogue services."""

import pytest

from scheduling.models import Service
from tests.admin.conftest import make_staff, messages_of, open_all_day
from tests.factories import BookingFactory, ServiceFactory, service_of

pytestmark = pytest.mark.django_db

LIST = "/admin/scheduling/service/"
ADD = "/admin/scheduling/service/add/"


def change_url(service):
    return f"/admin/scheduling/service/{service.pk}/change/"


def service_post_data(**overrides):
    data = {
        "name": "Cleaning", "slug": "cleaning", "description": "", "is_active": "on", "providers": [],
        "duration_minutes": 60, "slot_step_minutes": "", "buffer_before_minutes": 0, "buffer_after_minutes": 0,
        "min_notice_minutes": 60, "max_advance_days": 90, "hold_minutes": 15, "reminder_lead_minutes": "1440,60",
        "free_cancel_hours": 24, "late_cancel_fee": "0.00", "price": "80.00", "currency": "USD",
        "payment_mode": "none",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_service_list_shows_length_price_providers_and_state(as_superuser, provider_a):
    ServiceFactory(name="Cleaning", duration_minutes=60, price="80.00", currency="EUR", providers=[provider_a])
    body = as_superuser.get(LIST).content.decode()
    assert "Cleaning" in body and "1 hour" in body and "80.00 EUR" in body
    assert f'href="/admin/scheduling/provider/{provider_a.pk}/change/">Alpha Dental</a>' in body


def test_staff_see_only_services_of_their_providers(as_staff_a, provider_a, provider_b):
    body = as_staff_a.get(LIST).content.decode()
    assert service_of(provider_a).name in body and service_of(provider_b).name not in body
    assert as_staff_a.get(change_url(service_of(provider_b))).status_code == 404


def test_adding_a_service_goes_through_service_create_with_its_providers(as_superuser, provider_a, provider_b):
    response = as_superuser.post(ADD, service_post_data(providers=[provider_a.pk, provider_b.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]
    service = Service.objects.get(slug="cleaning")
    assert (service.duration_minutes, str(service.price), service.reminder_lead_minutes) == (60, "80.00", [1440, 60])
    assert set(service.providers.all()) == {provider_a, provider_b}


def test_staff_cannot_give_their_service_to_a_provider_they_do_not_manage(as_staff_a, provider_a, provider_b):
    mine = service_of(provider_a)
    data = service_post_data(name=mine.name, slug=mine.slug, providers=[provider_a.pk, provider_b.pk])
    response = as_staff_a.post(change_url(mine), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert list(mine.providers.all()) == [provider_a]


def test_staff_cannot_change_a_service_shared_with_a_provider_they_do_not_manage(as_staff_a, provider_a, provider_b):
    shared = ServiceFactory(name="Consultation", providers=[provider_a, provider_b])
    assert as_staff_a.get(change_url(shared)).status_code == 200  # visible, read-only
    response = as_staff_a.post(change_url(shared), service_post_data(name="Renamed", providers=[provider_a.pk]))
    assert response.status_code == 403
    shared.refresh_from_db()
    assert shared.name == "Consultation" and shared.providers.count() == 2


def test_changing_a_service_goes_through_service_update(as_staff_a, provider_a):
    mine = service_of(provider_a)
    data = service_post_data(name=mine.name, slug=mine.slug, duration_minutes=45, providers=[provider_a.pk])
    assert as_staff_a.post(change_url(mine), data).status_code == 302
    mine.refresh_from_db()
    assert mine.duration_minutes == 45


def test_the_payment_mode_is_set_with_the_price(as_staff_a, provider_a):
    mine = service_of(provider_a)
    data = service_post_data(name=mine.name, slug=mine.slug, payment_mode="at_venue", providers=[provider_a.pk])
    assert as_staff_a.post(change_url(mine), data).status_code == 302
    mine.refresh_from_db()
    assert mine.payment_mode == "at_venue"


def test_online_payment_of_a_free_service_is_refused_on_the_form(as_staff_a, provider_a):
    mine = service_of(provider_a)
    data = service_post_data(
        name=mine.name, slug=mine.slug, price="0.00", payment_mode="online", providers=[provider_a.pk]
    )
    response = as_staff_a.post(change_url(mine), data)
    assert "Online payment needs a price above zero." in response.content.decode()
    mine.refresh_from_db()
    assert mine.payment_mode == "none"


def test_a_late_fee_above_the_price_is_refused(as_superuser, provider_a):
    data = service_post_data(price="10.00", late_cancel_fee="20.00", providers=[provider_a.pk])
    response = as_superuser.post(ADD, data)
    assert "The late cancellation fee cannot exceed the price." in response.content.decode()
    assert not Service.objects.filter(slug="cleaning").exists()


def test_deleting_a_service_with_bookings_deactivates_it(as_superuser, provider_a):
    service = service_of(provider_a)
    BookingFactory(provider=provider_a, service=service)
    response = as_superuser.post(f"/admin/scheduling/service/{service.pk}/delete/", {"post": "yes"}, follow=True)
    service.refresh_from_db()
    assert service.is_active is False
    assert any("Deactivated, not deleted" in m for m in messages_of(response))


def test_deleting_a_service_without_bookings_deletes_it(as_superuser, provider_a):
    service = ServiceFactory(name="Unused", providers=[provider_a])
    response = as_superuser.post(f"/admin/scheduling/service/{service.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Service.objects.filter(pk=service.pk).exists()


def test_staff_offer_a_new_service_only_through_their_providers(staff_group, client):
    theirs, other = open_all_day(name="Theirs"), open_all_day(name="Other")
    client.force_login(make_staff(staff_group, theirs))
    body = client.get(ADD).content.decode()
    assert f'<option value="{theirs.pk}">Theirs</option>' in body
    assert f'<option value="{other.pk}">' not in body


def test_staff_cannot_bulk_delete_a_service_shared_with_a_provider_they_do_not_manage(
    as_staff_a, provider_a, provider_b
):
    shared = ServiceFactory(name="Consultation", providers=[provider_a, provider_b])
    action = {"action": "delete_selected", "_selected_action": [shared.pk], "post": "yes"}

    response = as_staff_a.post(LIST, action)

    assert response.status_code in (200, 403)
    assert Service.objects.filter(pk=shared.pk, is_active=True).exists()


def test_staff_can_bulk_delete_a_service_only_their_providers_offer(as_staff_a, provider_a):
    mine = ServiceFactory(name="Whitening", providers=[provider_a])
    action = {"action": "delete_selected", "_selected_action": [mine.pk], "post": "yes"}

    assert as_staff_a.post(LIST, action).status_code == 302
    assert not Service.objects.filter(pk=mine.pk).exists()


def test_a_service_emptied_of_providers_stays_with_the_staff_it_was_booked_with(as_staff_a, provider_a, provider_b):
    booked_with_b = ServiceFactory(name="Old consultation", providers=[provider_b])
    BookingFactory(provider=provider_b, service=booked_with_b)
    booked_with_b.providers.clear()

    assert "Old consultation" not in as_staff_a.get(LIST).content.decode()
    assert as_staff_a.get(change_url(booked_with_b)).status_code == 404
