"""/healthz: 200 when PostgreSQL, the broker and the cache answer, 503 naming whichever does not."""

import pytest
from django.db import OperationalError

from booking_site import health


@pytest.mark.django_db
def test_healthz_ok_when_database_and_broker_are_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "detail": "ok"}
    assert body["broker"] == {"ok": True, "detail": "ok"}
    assert body["cache"] == {"ok": True, "detail": "ok"}


@pytest.mark.django_db
def test_healthz_503_when_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert "ConnectionError" in body["broker"]["detail"]


@pytest.mark.django_db
def test_healthz_503_naming_the_cache_when_it_is_down(client, settings):
    settings.CACHES = {"default": {"BACKEND": "booking_site.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert (body["database"]["ok"], body["broker"]["ok"], body["cache"]["ok"]) == (True, True, False)
    assert "ConnectionError" in body["cache"]["detail"]


def _database_down(sql, params=None, *, using="default"):
    raise OperationalError("connection refused")


@pytest.mark.django_db
def test_healthz_503_when_database_is_down(client, monkeypatch):
    # Only the health check's query fails; the test database is left alone.
    monkeypatch.setattr(health, "fetch_value", _database_down)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": False, "detail": "OperationalError: connection refused"}
    assert body["broker"]["ok"] is True


def test_healthz_accepts_get_only(client):
    assert client.post("/healthz").status_code == 405
