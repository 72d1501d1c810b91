"""Gunicorn's settings, read by every start of the app (`gunicorn booking_site.wsgi` from the repo root,
scripts/run.sh, tests/live/server.py), so none of them can forget the redacting access logger.

Command-line flags still override these; environment: PORT, BIND, WEB_CONCURRENCY, GUNICORN_TIMEOUT,
GUNICORN_ACCESS_LOG ("-" for stdout; unset for none).
"""

import os

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Manage links carry the customer's private token in the path: the access log must never show it.
logger_class = "booking_site.log_redaction.RedactingLogger"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None


def post_worker_init(worker) -> None:
    """Move what loading the app made (about 150,000 objects: modules, URL patterns, serializers) out of
    the garbage collector's reach. They live as long as the worker, yet every full collection walked
    them all: a 40 ms pause in some request every few hundred, which was most of a single client's p99
    (docs/decisions/0007-api-cost-per-request.md)."""
    import gc

    gc.freeze()
