"""The blocked-time form: its Today/Now shortcuts fill the provider's wall-clock time (the page is
drawn in the provider's zone) under labels naming that zone."""

from datetime import datetime

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

ADD = "/admin/scheduling/blockedtime/add/"


def utc_offset_attribute(provider) -> str:
    offset = timezone.now().astimezone(provider.timezone).utcoffset()
    return f'data-admin-utc-offset="{int(offset.total_seconds())}"'


def test_an_add_page_opened_for_a_provider_is_drawn_in_its_zone_and_names_it(as_superuser, provider_a, provider_b):
    body = as_superuser.get(f"{ADD}?provider={provider_a.pk}").content.decode()
    assert utc_offset_attribute(provider_a) in body  # what Today/Now add to the browser's clock
    assert "Start (America/New_York)" in body and "End (America/New_York)" in body
    assert f'<option value="{provider_a.pk}" selected>' in body


def test_without_a_chosen_provider_the_shortcuts_wait_for_one(as_superuser, provider_a, provider_b):
    body = as_superuser.get(ADD).content.decode()
    assert ".datetimeshortcuts { display: none; }" in body
    assert "choose the provider first" in body
    assert 'searchParams.set("provider"' in body  # choosing one re-draws the page in its zone


def test_a_provider_that_is_not_yours_gives_no_zone(as_staff_b, provider_a, provider_b):
    body = as_staff_b.get(f"{ADD}?provider={provider_a.pk}").content.decode()
    assert "America/New_York" not in body
    assert utc_offset_attribute(provider_b) in body  # the one provider staff-b manages


def test_times_typed_on_a_page_for_a_provider_are_read_in_its_zone(as_superuser, provider_a, provider_b):
    as_superuser.post(
        f"{ADD}?provider={provider_b.pk}",
        {
            "provider": provider_b.pk, "reason": "break", "note": "",
            "start_at_0": "2031-07-01", "start_at_1": "12:00", "end_at_0": "2031-07-01", "end_at_1": "13:00",
        },
    )  # fmt: skip
    blocked = provider_b.blocked_times.get()
    assert blocked.start_at == datetime(2031, 7, 1, 12, tzinfo=provider_b.timezone)
