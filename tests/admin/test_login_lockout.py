"""Admin login lockout (django-axes): repeated wrong passwords lock that username on that address."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def admin_user():
    user = UserFactory(username="boss", is_staff=True, is_superuser=True)
    user.set_password("the-right-one")
    user.save()
    return user


def login(client, password: str, *, ip: str = "203.0.113.5", username: str = "boss"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_after_the_failure_limit_even_the_right_password_is_refused_with_a_lockout_page(client, admin_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    codes = [login(client, f"wrong-{n}").status_code for n in range(3)]

    assert codes[:2] == [200, 200]  # the login form again, with its error
    assert codes[2] == 429
    response = login(client, "the-right-one")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_address(client, admin_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        login(client, f"wrong-{n}")

    response = login(client, "the-right-one", ip="198.51.100.7")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)
    colleague = UserFactory(username="colleague", is_staff=True, is_superuser=True)
    colleague.set_password("theirs")
    colleague.save()
    other = Client()
    assert login(other, "theirs", username="colleague").status_code == 302  # same address, another user


def test_a_few_wrong_passwords_then_the_right_one_still_signs_in(client, admin_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    login(client, "wrong")
    login(client, "wrong-again")

    assert login(client, "the-right-one").status_code == 302
