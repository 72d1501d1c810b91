"""gunicorn.conf.py applies to any start of the app: a plain `gunicorn booking_site.wsgi` redacts manage tokens."""

import time
import urllib.error
import urllib.request

import pytest

from tests.live.server import Gunicorn

pytestmark = pytest.mark.django_db


def test_a_plain_gunicorn_start_keeps_manage_tokens_out_of_the_access_log(tmp_path):
    access_log = tmp_path / "access.log"
    server = Gunicorn(workers=1, env={"GUNICORN_ACCESS_LOG": str(access_log)})
    try:
        path = "/b/BK7Q2M/s3cret-manage-token-value/cancel/?next=/b/BK7Q2M/s3cret-manage-token-value/"
        try:
            urllib.request.urlopen(server.url + path, timeout=30).close()
        except urllib.error.HTTPError:
            pass  # no such booking: the access line is written all the same
    finally:
        server.stop()

    deadline = time.monotonic() + 5
    while "/b/BK7Q2M/" not in (text := access_log.read_text() if access_log.exists() else ""):
        assert time.monotonic() < deadline, "no access log line"
        time.sleep(0.1)
    assert "s3cret-manage-token-value" not in text
    assert "/b/BK7Q2M/[redacted]" in text
