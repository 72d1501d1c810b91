"""PostgreSQL unreachable: 503 with Retry-After (JSON under /api/, the 503 page elsewhere), and the
next request after it is back works without a restart. The database is made unreachable for real:
the connection is pointed at a port where nothing listens. A connection broken under running
workers (PostgreSQL restarted) is covered with a real gunicorn in tests/live/test_outages.py."""

import pytest
from django.db import connection
from django.test import override_settings

from tests.live.server import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_down():
    """Point Django's connection at a closed port until the test ends."""
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())
    yield
    connection.close()
    connection.settings_dict["PORT"] = real_port


def test_the_api_answers_503_json_with_retry_after_when_the_database_is_down(client, database_down):
    for path in ("/api/v1/providers/", "/api/v1/bookings/"):
        response = client.get(path, HTTP_AUTHORIZATION="Token abc")

        assert response.status_code == 503, path
        assert response["Content-Type"] == "application/json"
        assert int(response["Retry-After"]) > 0
        assert response.json()["code"] == "service_unavailable"


def test_pages_answer_the_503_page_when_the_database_is_down(client, database_down):
    response = client.get("/")

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "text/html" in response["Content-Type"]
    assert "briefly unavailable" in response.content.decode()


def test_the_app_recovers_by_itself_when_the_database_is_back(client):
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())
    try:
        assert client.get("/api/v1/providers/").status_code == 503
    finally:
        connection.settings_dict["PORT"] = real_port

    assert client.get("/api/v1/providers/").status_code == 200


@override_settings(ROOT_URLCONF="tests.error_urls")
@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/raise/database-down/", "application/json"), ("/raise/database-down/", "text/html")],
)
def test_a_database_failure_outside_any_view_is_a_503_not_a_500(client, settings, path, content_type):
    """What a middleware raises never reaches DatabaseUnavailableMiddleware.process_exception; the 500
    handler answers it. Without that middleware in the stack, only the handler can give the 503."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "booking_site.outage.DatabaseUnavailableMiddleware"]
    client.raise_request_exception = False

    response = client.get(path)

    assert response.status_code == 503
    assert response["Content-Type"].startswith(content_type)
    assert int(response["Retry-After"]) > 0
