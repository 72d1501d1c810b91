"""Liveness and dependency check for load balancers and `make run`.

200 when PostgreSQL, the Celery broker and the cache (Redis) all answer; 503 naming each part that
does not. With the broker or the cache down the site still takes bookings (kicks and throttles
degrade, see booking_site.outage and scheduling.api.throttling), but the operator must know.
"""

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from booking_site.sql import fetch_value


def _database_ok() -> tuple[bool, str]:
    try:
        fetch_value("SELECT 1")  # raw: a round trip that reads no table, which the ORM cannot send
    except Exception as exc:  # noqa: BLE001 - any failure means "down", and the reason is reported
        return False, f"{type(exc).__name__}: {exc}".strip()
    return True, "ok"


def _broker_ok() -> tuple[bool, str]:
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return False, f"{type(exc).__name__}: {exc}".strip()
    return True, "ok"


def _cache_ok() -> tuple[bool, str]:
    try:
        cache.get("healthz")
    except Exception as exc:  # noqa: BLE001
        return False, f"{type(exc).__name__}: {exc}".strip()
    return True, "ok"


@require_GET
def healthz(request):
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    cache_ok, cache_detail = _cache_ok()
    healthy = db_ok and broker_ok and cache_ok
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
        "cache": {"ok": cache_ok, "detail": cache_detail},
    }
    return JsonResponse(body, status=200 if healthy else 503)
