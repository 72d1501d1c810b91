"""The app's settings plus the bench-only endpoints (bench/_bench_urls.py); loaded by the benches'
gunicorn only (bench/_http.py puts bench/ on its PYTHONPATH), never by the app."""

from booking_site.settings import *  # noqa: F403 - the app's settings, unchanged but for the URLs

ROOT_URLCONF = "_bench_urls"
