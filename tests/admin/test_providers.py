"""Provider list and page: filters, search, inlines with the services' validation, the preview."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from scheduling.models import AvailabilityRule, BlockedTime, Service
from scheduling.selectors import provider_slots
from scheduling.services import CustomerData, booking_create
from tests.factories import (
    AvailabilityRuleFactory,
    BlockedTimeFactory,
    ProviderFactory,
    ServiceFactory,
    UserFactory,
    service_of,
)

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def change_url(provider):
    return f"/admin/scheduling/provider/{provider.pk}/change/"


def provider_post_data(provider, **overrides):
    """The provider change form as the browser would post it, with empty inline formsets."""
    data = {
        "name": provider.name, "slug": provider.slug, "kind": provider.kind, "timezone": str(provider.timezone),
        "is_active": "on",
        "rules-TOTAL_FORMS": 0, "rules-INITIAL_FORMS": 0, "rules-MIN_NUM_FORMS": 0, "rules-MAX_NUM_FORMS": 1000,
        "blocked_times-TOTAL_FORMS": 0, "blocked_times-INITIAL_FORMS": 0,
        "blocked_times-MIN_NUM_FORMS": 0, "blocked_times-MAX_NUM_FORMS": 1000,
    }  # fmt: skip
    data.update(overrides)
    return data


def test_provider_list_filters_by_kind(as_superuser, provider_a, provider_b):
    body = as_superuser.get("/admin/scheduling/provider/?kind__exact=room").content.decode()
    assert "Beta Rooms" in body and "Alpha Dental" not in body


def test_provider_list_filters_by_zone(as_superuser, provider_a, provider_b):
    body = as_superuser.get("/admin/scheduling/provider/?timezone=Europe/Berlin").content.decode()
    assert "Beta Rooms" in body and "Alpha Dental" not in body


def test_provider_zone_filter_offers_only_zones_in_use(as_superuser, provider_a, provider_b):
    body = as_superuser.get("/admin/scheduling/provider/").content.decode()
    assert "?timezone=Europe%2FBerlin" in body and "?timezone=America%2FNew_York" in body
    assert "Asia%2FTokyo" not in body


def test_provider_list_filters_by_active(as_superuser, provider_a):
    ProviderFactory(name="Retired Room", is_active=False)
    body = as_superuser.get("/admin/scheduling/provider/?is_active__exact=0").content.decode()
    assert "Retired Room" in body and "Alpha Dental" not in body


def test_provider_list_searches_by_name(as_superuser, provider_a, provider_b):
    body = as_superuser.get("/admin/scheduling/provider/?q=dental").content.decode()
    assert "Alpha Dental" in body and "Beta Rooms" not in body


def test_provider_list_links_each_agenda(as_superuser, provider_a):
    body = as_superuser.get("/admin/scheduling/provider/").content.decode()
    assert f"/admin/scheduling/provider/{provider_a.pk}/agenda/day/" in body
    assert f"/admin/scheduling/provider/{provider_a.pk}/agenda/week/" in body


def test_provider_page_has_rule_and_blocked_time_inlines(as_superuser, provider_a):
    body = as_superuser.get(change_url(provider_a)).content.decode()
    assert 'id="rules-group"' in body and 'id="blocked_times-group"' in body
    assert "{#" not in body and "tabular.html" not in body  # template comments stay comments
    assert "FREQ=DAILY" in body


def test_availability_preview_shows_the_engines_slots_for_14_days_in_the_provider_zone(as_superuser):
    provider = ProviderFactory(timezone="America/New_York", name="Weekday Clinic")
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(10))
    today = timezone.now().astimezone(NY).date()
    expected = provider_slots(
        provider=provider, service=service_of(provider), first=today, last=today + timedelta(days=13)
    )
    body = as_superuser.get(change_url(provider)).content.decode()
    assert f"{len(expected)} free slots in the next 14 days" in body
    assert "America/New_York" in body
    assert body.count('<li class="slot-chip">09:30 E') >= 13  # 09:30 local (EDT or EST), not UTC
    assert "13:30 " not in body and "14:30 " not in body  # the same slots in UTC would read so


def test_availability_preview_leaves_out_a_booked_slot(as_superuser):
    provider = ProviderFactory(timezone="America/New_York", name="One Hour Clinic")
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(10))
    before = as_superuser.get(change_url(provider)).content.decode()
    tomorrow = timezone.now().astimezone(NY).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(9), tzinfo=NY)
    booking_create(provider_id=provider.pk, start=start, customer=CustomerData(name="Ann", email="ann@example.com"))
    after = as_superuser.get(change_url(provider)).content.decode()
    assert before.count('class="slot-chip"') - after.count('class="slot-chip"') == 1


def test_adding_a_rule_with_a_bad_rrule_is_refused_with_the_model_message(as_superuser, provider_a):
    data = provider_post_data(
        provider_a,
        **{
            "rules-TOTAL_FORMS": 1, "rules-0-kind": "open", "rules-0-rrule": "FREQ=HOURLY",
            "rules-0-starts_on": "2027-01-01", "rules-0-start_time": "09:00", "rules-0-end_time": "17:00",
        },
    )  # fmt: skip
    response = as_superuser.post(change_url(provider_a), data)
    assert response.status_code == 200
    assert "FREQ is not allowed in a rule" in response.content.decode()
    assert provider_a.rules.count() == 1


def test_adding_a_rule_stores_the_rrule_normalised_like_the_service(as_superuser, provider_a):
    data = provider_post_data(
        provider_a,
        **{
            "rules-TOTAL_FORMS": 1, "rules-0-kind": "closed", "rules-0-rrule": "RRULE:freq=weekly;byday=sa",
            "rules-0-starts_on": "2027-01-01", "rules-0-start_time": "00:00", "rules-0-end_time": "00:00",
        },
    )  # fmt: skip
    response = as_superuser.post(change_url(provider_a), data)
    assert response.status_code == 302
    assert provider_a.rules.filter(kind="closed").get().rrule == "FREQ=WEEKLY;BYDAY=SA"


def test_blocked_time_typed_on_the_provider_page_is_read_in_the_provider_zone(as_superuser, provider_a):
    day = (timezone.now() + timedelta(days=30)).astimezone(NY).date()
    data = provider_post_data(
        provider_a,
        **{
            "blocked_times-TOTAL_FORMS": 1, "blocked_times-0-start_at_0": day.isoformat(),
            "blocked_times-0-start_at_1": "12:00", "blocked_times-0-end_at_0": day.isoformat(),
            "blocked_times-0-end_at_1": "13:30", "blocked_times-0-reason": "break",
        },
    )  # fmt: skip
    response = as_superuser.post(change_url(provider_a), data)
    assert response.status_code == 302
    blocked = BlockedTime.objects.get(provider=provider_a)
    assert blocked.start_at == datetime.combine(day, time(12), tzinfo=NY)
    assert blocked.end_at == datetime.combine(day, time(13, 30), tzinfo=NY)


def test_blocked_time_inline_shows_saved_times_in_the_provider_zone_not_utc(as_superuser, provider_a):
    start = datetime(2031, 7, 1, 12, 0, tzinfo=NY)  # 16:00 UTC
    BlockedTimeFactory(provider=provider_a, start_at=start, end_at=start + timedelta(hours=1), reason="vacation")
    body = as_superuser.get(change_url(provider_a)).content.decode()
    assert 'value="12:00:00"' in body and 'value="2031-07-01"' in body
    assert "Vacation: Tue 01 Jul 2031, 12:00–13:00 EDT (America/New_York)" in body
    assert "16:00:00" not in body and "16:00Z" not in body


def test_blocked_time_ending_before_it_starts_is_a_form_error(as_superuser, provider_a):
    data = provider_post_data(
        provider_a,
        **{
            "blocked_times-TOTAL_FORMS": 1, "blocked_times-0-start_at_0": "2031-07-01",
            "blocked_times-0-start_at_1": "12:00", "blocked_times-0-end_at_0": "2031-07-01",
            "blocked_times-0-end_at_1": "11:00", "blocked_times-0-reason": "break",
        },
    )  # fmt: skip
    response = as_superuser.post(change_url(provider_a), data)
    assert response.status_code == 200
    assert "The end must be after the start." in response.content.decode()
    assert not BlockedTime.objects.exists()


def test_provider_with_a_fixed_offset_zone_is_refused_like_the_service(as_superuser, provider_a):
    response = as_superuser.post(change_url(provider_a), provider_post_data(provider_a, timezone="Etc/GMT+5"))
    assert response.status_code == 200
    assert "Unknown time zone" in response.content.decode()
    provider_a.refresh_from_db()
    assert str(provider_a.timezone) == "America/New_York"


def test_staff_cannot_change_who_staffs_their_provider(as_staff_a, staff_a, provider_a):
    other = UserFactory(username="intruder")
    response = as_staff_a.post(change_url(provider_a), provider_post_data(provider_a, staff=[other.pk]))
    assert response.status_code == 302
    assert list(provider_a.staff.all()) == [staff_a]


def test_superuser_can_add_a_provider_with_rules(as_superuser, superuser):
    data = provider_post_data(
        ProviderFactory.build(name="New Studio", slug="new-studio", timezone="Asia/Tokyo"),
        **{
            "rules-TOTAL_FORMS": 1, "rules-0-kind": "open", "rules-0-rrule": "FREQ=WEEKLY;BYDAY=MO",
            "rules-0-starts_on": "2027-01-04", "rules-0-start_time": "10:00", "rules-0-end_time": "12:00",
        },
    )  # fmt: skip
    for key in list(data):
        if key.startswith("blocked_times-"):
            del data[key]  # no blocked-time inline before the provider (and its zone) exists
    response = as_superuser.post("/admin/scheduling/provider/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = AvailabilityRule.objects.get(provider__slug="new-studio")
    assert (rule.rrule, rule.start_time) == ("FREQ=WEEKLY;BYDAY=MO", time(10))


def test_rule_admin_rejects_an_unparseable_rrule(as_superuser, provider_a):
    response = as_superuser.post(
        "/admin/scheduling/availabilityrule/add/",
        {
            "provider": provider_a.pk, "kind": "open", "rrule": "FREQ=WEEKLY;BYDAY=XX",
            "starts_on": "2027-01-01", "start_time": "09:00", "end_time": "17:00",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "Not a valid RFC 5545 recurrence rule" in response.content.decode()


def test_rule_admin_refuses_interval_zero_and_a_first_date_before_1900_under_their_fields(as_superuser, provider_a):
    response = as_superuser.post(
        "/admin/scheduling/availabilityrule/add/",
        {
            "provider": provider_a.pk, "kind": "open", "rrule": "FREQ=DAILY;INTERVAL=0",
            "starts_on": "1899-12-31", "start_time": "09:00", "end_time": "17:00",
        },
    )  # fmt: skip
    errors = response.context["adminform"].form.errors
    assert errors["rrule"] == ["INTERVAL must be 1 or more."]
    assert errors["starts_on"] == ["The first date must lie between 1900-01-01 and 2200-12-31."]
    assert provider_a.rules.count() == 1


def test_rule_admin_refuses_a_rule_that_never_occurs(as_superuser, provider_a):
    response = as_superuser.post(
        "/admin/scheduling/availabilityrule/add/",
        {
            "provider": provider_a.pk, "kind": "open", "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "starts_on": "2027-01-01", "start_time": "09:00", "end_time": "17:00",
        },
    )  # fmt: skip
    assert "This rule has no occurrence in the 10 years from its first date." in response.content.decode()


def test_rule_admin_rejects_an_end_date_before_the_start(as_superuser, provider_a):
    response = as_superuser.post(
        "/admin/scheduling/availabilityrule/add/",
        {
            "provider": provider_a.pk, "kind": "open", "rrule": "FREQ=DAILY", "starts_on": "2027-01-10",
            "ends_on": "2027-01-01", "start_time": "09:00", "end_time": "17:00",
        },
    )  # fmt: skip
    assert "The last date cannot be before the first date." in response.content.decode()


def test_rule_list_shows_the_window_with_the_provider_zone(as_superuser, provider_a):
    body = as_superuser.get("/admin/scheduling/availabilityrule/").content.decode()
    assert "00:00–00:00 (next day) America/New_York" in body


def test_blocked_time_admin_reads_times_in_the_chosen_providers_zone(as_superuser, provider_b):
    response = as_superuser.post(
        "/admin/scheduling/blockedtime/add/",
        {
            "provider": provider_b.pk, "start_at_0": "2031-01-15", "start_at_1": "09:00",
            "end_at_0": "2031-01-15", "end_at_1": "10:00", "reason": "personal", "note": "dentist",
        },
    )  # fmt: skip
    assert response.status_code == 302
    blocked = BlockedTime.objects.get()
    assert blocked.start_at == datetime(2031, 1, 15, 8, 0, tzinfo=ZoneInfo("UTC"))  # 09:00 CET


def test_blocked_time_list_shows_local_times_with_the_zone(as_superuser, provider_b):
    start = datetime(2031, 1, 15, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    BlockedTimeFactory(provider=provider_b, start_at=start, end_at=start + timedelta(hours=1))
    body = as_superuser.get("/admin/scheduling/blockedtime/").content.decode()
    assert "Wed 15 Jan 2031, 09:00 CET (Europe/Berlin)" in body


def test_blocked_time_page_and_messages_name_it_in_local_time(as_superuser, provider_b):
    start = datetime(2031, 1, 15, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    blocked = BlockedTimeFactory(provider=provider_b, start_at=start, end_at=start + timedelta(hours=1))
    url = f"/admin/scheduling/blockedtime/{blocked.pk}/change/"
    body = as_superuser.get(url).content.decode()
    assert "Personal: Wed 15 Jan 2031, 09:00–10:00 CET (Europe/Berlin)" in body
    assert "08:00Z" not in body
    response = as_superuser.post(
        url,
        {
            "provider": provider_b.pk, "start_at_0": "2031-01-15", "start_at_1": "09:00",
            "end_at_0": "2031-01-15", "end_at_1": "11:00", "reason": "personal", "note": "",
        },
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert "Personal: Wed 15 Jan 2031, 09:00–11:00 CET (Europe/Berlin)" in page and "08:00Z" not in page


def test_blocked_time_delete_confirmation_names_it_in_local_time(as_superuser, provider_b):
    start = datetime(2031, 1, 15, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    blocked = BlockedTimeFactory(provider=provider_b, start_at=start, end_at=start + timedelta(hours=1))
    body = as_superuser.get(f"/admin/scheduling/blockedtime/{blocked.pk}/delete/").content.decode()
    assert "Personal: Wed 15 Jan 2031, 09:00–10:00 CET (Europe/Berlin)" in body and "08:00Z" not in body
    response = as_superuser.post(f"/admin/scheduling/blockedtime/{blocked.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not BlockedTime.objects.exists()


def test_blocked_time_inline_lists_only_upcoming_blocked_times(as_superuser, provider_a):
    past = timezone.now() - timedelta(days=3)
    BlockedTimeFactory(provider=provider_a, start_at=past, end_at=past + timedelta(hours=1), note="old-one")
    BlockedTimeFactory(provider=provider_a, note="next-one")
    body = as_superuser.get(change_url(provider_a)).content.decode()
    assert "next-one" in body and "old-one" not in body


def test_provider_page_links_the_agenda_and_a_new_booking(as_superuser, provider_a):
    body = as_superuser.get(change_url(provider_a)).content.decode()
    assert f"/admin/scheduling/provider/{provider_a.pk}/agenda/day/" in body
    assert f"/admin/scheduling/booking/add/?provider={provider_a.pk}" in body


def test_preview_shows_no_slot_for_a_provider_without_rules(as_superuser):
    provider = ProviderFactory(name="Empty")
    body = as_superuser.get(change_url(provider)).content.decode()
    assert "0 free slots in the next 14 days" in body


def _utc_offset_attribute(response) -> int:
    import re

    return int(re.search(rb'data-admin-utc-offset="(-?\d+)"', response.content).group(1))


def _offset_now(zone: str) -> int:
    return int(timezone.now().astimezone(ZoneInfo(zone)).utcoffset().total_seconds())


def test_provider_page_now_buttons_fill_in_the_providers_wall_time(as_superuser, provider_a):
    # The admin's "Now" shortcut reads this attribute; blocked times on this page are New York times.
    response = as_superuser.get(change_url(provider_a))
    assert _utc_offset_attribute(response) == _offset_now("America/New_York") != 0


def test_blocked_time_page_now_buttons_fill_in_its_providers_wall_time(as_superuser, provider_b):
    blocked = BlockedTimeFactory(provider=provider_b)
    response = as_superuser.get(f"/admin/scheduling/blockedtime/{blocked.pk}/change/")
    assert _utc_offset_attribute(response) == _offset_now("Europe/Berlin") != 0


def test_new_blocked_time_for_staff_of_one_provider_uses_its_zone(as_staff_a, provider_a, provider_b):
    response = as_staff_a.get("/admin/scheduling/blockedtime/add/")
    assert _utc_offset_attribute(response) == _offset_now("America/New_York")


def test_new_blocked_time_for_several_providers_stays_in_utc(as_superuser, provider_a, provider_b):
    # No one zone is right before a provider is chosen; the field help names the rule.
    assert _utc_offset_attribute(as_superuser.get("/admin/scheduling/blockedtime/add/")) == 0


def test_pages_rendered_in_a_providers_zone_leave_the_next_request_in_utc(as_superuser, provider_a):
    as_superuser.get(change_url(provider_a))
    assert _utc_offset_attribute(as_superuser.get("/admin/scheduling/provider/add/")) == 0


def test_a_provider_added_in_the_console_gets_a_bookable_service_of_its_own(as_superuser):
    data = provider_post_data(ProviderFactory.build(name="New Studio", slug="new-studio", timezone="Asia/Tokyo"))
    for key in list(data):
        if key.startswith("blocked_times-"):
            del data[key]
    assert as_superuser.post("/admin/scheduling/provider/add/", data).status_code == 302
    [service] = Service.objects.filter(providers__slug="new-studio")
    assert (service.name, service.is_active, service.duration_minutes) == ("New Studio", True, 30)


def test_provider_page_lists_the_services_it_offers_with_links(as_superuser, provider_a):
    cleaning = ServiceFactory(name="Cleaning", duration_minutes=60, price="80.00", providers=[provider_a])
    body = as_superuser.get(change_url(provider_a)).content.decode()
    assert f'<a href="/admin/scheduling/service/{cleaning.pk}/change/">Cleaning</a> · 1 hour · 80.00 USD' in body
    own = service_of(provider_a)
    assert f'<a href="/admin/scheduling/service/{own.pk}/change/">Alpha Dental</a>' in body


def test_availability_preview_shows_each_service_s_own_slots(as_superuser):
    provider = ProviderFactory(timezone="America/New_York", name="Two Lengths", duration_minutes=30)
    ServiceFactory(name="Long visit", duration_minutes=60, providers=[provider])
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(10))
    body = as_superuser.get(change_url(provider)).content.decode()
    expected = {}
    for service in provider.services.all():
        first = timezone.now().astimezone(provider.timezone).date()
        slots = provider_slots(provider=provider, service=service, first=first, last=first + timedelta(days=13))
        expected[f"{service.name} ("] = len(slots)
    assert expected["Two Lengths ("] > expected["Long visit ("] > 0  # 30-minute slots are more than hour-long ones
    for heading, total in expected.items():
        block = body[body.index(heading) :]
        assert f"{total} free slots in the next 14 days" in block[: block.index("</p>")], heading
