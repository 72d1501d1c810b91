import pytest

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_headless_chromium_renders_the_admin_login_from_the_live_server(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    assert page.locator("input[name=username]").is_visible()
    assert screenshot(page, "smoke-admin-login").stat().st_size > 0
