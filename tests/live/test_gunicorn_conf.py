"""gunicorn.conf.py applies to any start of the app: a plain `gunicorn booking_site.wsgi` redacts manage tokens;
its workers, like Celery's pool processes, freeze the loaded app out of the garbage collector's reach."""

import gc
import runpy
import time
import urllib.error
import urllib.request

import pytest

from booking_site.celery import freeze_loaded_objects
from tests.live.server import ROOT, Gunicorn

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


@pytest.fixture
def unfrozen():
    assert gc.get_freeze_count() == 0
    yield
    gc.unfreeze()


def test_a_web_worker_freezes_the_loaded_app_out_of_the_garbage_collectors_reach(unfrozen):
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    hooks["post_worker_init"](None)
    assert gc.get_freeze_count() > 0


def test_a_celery_pool_process_freezes_the_loaded_app_too(unfrozen):
    freeze_loaded_objects()
    assert gc.get_freeze_count() > 0
