"""The periodic-task scheduler's models (django_celery_beat) are for superusers only."""

import pytest
from django.contrib.auth.models import Permission

pytestmark = pytest.mark.django_db

SCHEDULER_PAGES = [
    "/admin/django_celery_beat/periodictask/",
    "/admin/django_celery_beat/intervalschedule/",
    "/admin/django_celery_beat/crontabschedule/",
    "/admin/django_celery_beat/clockedschedule/",
    "/admin/django_celery_beat/solarschedule/",
]


@pytest.fixture
def staff_with_scheduler_permissions(client, staff_a):
    """Staff who were granted every permission on the scheduler's models (by mistake, say)."""
    staff_a.user_permissions.add(*Permission.objects.filter(content_type__app_label="django_celery_beat"))
    client.force_login(staff_a)
    return client


def test_staff_do_not_see_the_scheduler_models_on_the_index(staff_with_scheduler_permissions):
    html = staff_with_scheduler_permissions.get("/admin/").content.decode()
    assert "django_celery_beat" not in html and "Periodic tasks" not in html


@pytest.mark.parametrize("url", [*SCHEDULER_PAGES, "/admin/django_celery_beat/periodictask/add/"])
def test_staff_cannot_reach_the_scheduler_models(staff_with_scheduler_permissions, url):
    assert staff_with_scheduler_permissions.get(url).status_code == 403


def test_staff_cannot_open_the_scheduler_app_page(staff_with_scheduler_permissions):
    assert staff_with_scheduler_permissions.get("/admin/django_celery_beat/").status_code == 404


@pytest.mark.parametrize("url", SCHEDULER_PAGES)
def test_a_superuser_still_manages_the_scheduler(as_superuser, url):
    assert as_superuser.get(url).status_code == 200


def test_a_superuser_sees_the_scheduler_on_the_index(as_superuser):
    assert "/admin/django_celery_beat/periodictask/" in as_superuser.get("/admin/").content.decode()
