"""Services that shape the catalogue: services themselves, and a provider's own service (API v1's fields)."""

from decimal import Decimal

import pytest

from scheduling.errors import InvalidInput
from scheduling.models import Service
from scheduling.services import (
    provider_create,
    provider_delete,
    provider_update,
    service_create,
    service_delete,
    service_update,
)
from tests.factories import BookingFactory, ProviderFactory, ServiceFactory, service_of

pytestmark = pytest.mark.django_db


def test_service_create_validates_like_the_model():
    with pytest.raises(InvalidInput) as exc:
        service_create(name="Cleaning", slug="cleaning", price=Decimal("10.00"), late_cancel_fee=Decimal("20.00"))
    assert list(exc.value.fields) == ["late_cancel_fee"]
    assert not Service.objects.exists()


def test_service_create_and_update_set_who_offers_it():
    first, second = ProviderFactory(), ProviderFactory()
    service = service_create(name="Cleaning", slug="cleaning", duration_minutes=60, providers=[first])
    service_update(service=service, providers=[first, second], price=Decimal("90.00"))
    service.refresh_from_db()
    assert set(service.providers.all()) == {first, second}
    assert service.price == Decimal("90.00")


def test_service_delete_removes_a_service_never_booked():
    service = ServiceFactory()
    assert service_delete(service=service) is True
    assert not Service.objects.filter(pk=service.pk).exists()


def test_service_delete_only_deactivates_a_service_with_bookings():
    booking = BookingFactory()
    assert service_delete(service=booking.service) is False
    booking.service.refresh_from_db()
    assert booking.service.is_active is False


def test_a_provider_created_with_settings_gets_its_own_service_made_from_them():
    provider = provider_create(
        name="Dr. Lin", slug="dr-lin", timezone="Europe/Berlin", own_service={"duration_minutes": 45}
    )
    service = service_of(provider)
    assert (service.name, service.slug, service.duration_minutes) == ("Dr. Lin", "dr-lin", 45)


def test_a_providers_own_service_takes_a_free_slug():
    ServiceFactory(slug="dr-lin")
    provider = provider_create(name="Dr. Lin", slug="dr-lin", timezone="UTC", own_service={})
    assert service_of(provider).slug == "dr-lin-2"


def test_a_bad_setting_for_a_providers_own_service_writes_nothing():
    with pytest.raises(InvalidInput) as exc:
        provider_create(name="X", slug="x", timezone="UTC", own_service={"currency": "EURO"})
    assert list(exc.value.fields) == ["currency"]
    assert not Service.objects.exists()


def test_updating_a_providers_settings_changes_its_own_service():
    provider = ProviderFactory(duration_minutes=30)
    provider_update(provider=provider, own_service={"duration_minutes": 50})
    assert service_of(provider).duration_minutes == 50


def test_updating_the_settings_of_a_provider_whose_service_is_shared_is_refused_naming_the_field():
    provider = ProviderFactory()
    service_of(provider).providers.add(ProviderFactory(with_service=False))
    with pytest.raises(InvalidInput) as exc:
        provider_update(provider=provider, own_service={"price": Decimal("5.00")})
    assert list(exc.value.fields) == ["price"]
    assert service_of(provider).price == Decimal("0.00")


def test_updating_the_settings_of_a_provider_with_no_service_gives_it_one():
    provider = ProviderFactory(with_service=False)
    provider_update(provider=provider, own_service={"duration_minutes": 20})
    assert service_of(provider).duration_minutes == 20


def test_renaming_a_provider_renames_its_own_service_but_not_a_shared_one():
    provider = ProviderFactory(name="Dr Old")
    shared = ServiceFactory(name="Dr Old", providers=[provider, ProviderFactory()])
    provider_update(provider=provider, name="Dr New")
    assert service_of(provider).name == "Dr New"
    shared.refresh_from_db()
    assert shared.name == "Dr Old"


def test_deleting_a_provider_takes_its_own_service_and_leaves_shared_ones():
    provider, other = ProviderFactory(), ProviderFactory()
    own, shared = service_of(provider), ServiceFactory(providers=[provider, other])
    assert provider_delete(provider=provider) is True
    assert not Service.objects.filter(pk=own.pk).exists()
    assert list(shared.providers.all()) == [other]
