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
