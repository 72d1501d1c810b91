import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.scheduling.conftest import open_all_day_provider


@pytest.fixture
def anon():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user
    return client


@pytest.fixture
def staff_a(db):
    return UserFactory(username="staff-a")


@pytest.fixture
def staff_b(db):
    return UserFactory(username="staff-b")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def provider_a(staff_a):
    provider = open_all_day_provider(name="A Dentist", slug="a-dentist", price="80.00", late_cancel_fee="20.00")
    provider.staff.add(staff_a)
    return provider


@pytest.fixture
def provider_b(staff_b):
    provider = open_all_day_provider(name="B Room", slug="b-room", timezone="Europe/Berlin")
    provider.staff.add(staff_b)
    return provider


@pytest.fixture
def as_a(staff_a):
    return client_for(staff_a)


@pytest.fixture
def as_b(staff_b):
    return client_for(staff_b)


@pytest.fixture
def as_root(superuser):
    return client_for(superuser)
