"""`manage.py ensure_admin`: creates the admin once, never silently resets a password."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run(**kwargs) -> str:
    out = StringIO()
    call_command("ensure_admin", stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _no_admin_password(monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)


def admin():
    return get_user_model().objects.get(username="admin")


def test_creates_superuser_with_default_password():
    output = run()

    user = admin()
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.check_password("admin")
    assert "username admin" in output and "password admin" in output


def test_creates_superuser_with_password_from_env(monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "s3cret-pass")

    output = run()

    assert admin().check_password("s3cret-pass")
    assert "password s3cret-pass" in output


def test_second_run_creates_nothing():
    run()
    run()

    assert get_user_model().objects.filter(username="admin").count() == 1


def test_existing_password_is_kept_without_env():
    run()
    user = admin()
    user.set_password("changed-by-hand")
    user.save()

    output = run()

    assert admin().check_password("changed-by-hand")
    assert "unchanged" in output
    assert "changed-by-hand" not in output


def test_existing_password_is_reset_when_env_is_set(monkeypatch):
    run()
    monkeypatch.setenv("ADMIN_PASSWORD", "from-the-env")

    run()

    assert admin().check_password("from-the-env")


def test_existing_plain_user_is_promoted_without_touching_password():
    get_user_model().objects.create_user(username="admin", password="plain-user-pw", is_active=False)

    run()

    user = admin()
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.check_password("plain-user-pw")
