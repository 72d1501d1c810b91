"""Token authentication (scheduling.api.authentication): DRF's header, errors and outcomes."""

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_valid_token_authenticates_its_user(staff_a, provider_a):
    response = client_for(staff_a).get("/api/v1/bookings/")
    assert response.status_code == 200


def test_an_unknown_token_is_a_401_saying_so(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = client.get("/api/v1/bookings/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."
    assert response.headers["WWW-Authenticate"] == "Token"


def test_an_inactive_users_token_is_a_401(staff_a):
    client = client_for(staff_a)
    staff_a.is_active = False
    staff_a.save(update_fields=["is_active"])
    response = client.get("/api/v1/bookings/")
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_request_auth_carries_the_key_and_the_user(staff_a, rf):
    from rest_framework.request import Request

    from scheduling.api.authentication import UserTokenAuthentication

    token = client_for(staff_a)._credentials["HTTP_AUTHORIZATION"].split()[1]
    user, auth = UserTokenAuthentication().authenticate(Request(rf.get("/", HTTP_AUTHORIZATION=f"Token {token}")))
    assert (user.pk, auth.key, auth.user.pk) == (staff_a.pk, token, staff_a.pk)
