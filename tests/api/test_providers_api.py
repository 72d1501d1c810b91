from datetime import date, timedelta

import pytest

from scheduling.models import AvailabilityRule, BlockedTime, Provider
from tests.api.conftest import grant
from tests.factories import BookingFactory, ProviderFactory, service_of
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

PROVIDER = {
    "name": "Dr. Lin", "slug": "dr-lin", "kind": "person", "timezone": "America/New_York", "slot_minutes": 30,
    "slot_step_minutes": 15, "buffer_before_minutes": 5, "buffer_after_minutes": 10, "min_notice_minutes": 60,
    "max_advance_days": 30, "requires_confirmation": True, "hold_minutes": 15, "reminder_lead_minutes": [1440, 60],
    "free_cancel_hours": 24, "late_cancel_fee": "10.00", "price": "50.00", "currency": "USD", "is_active": True,
}  # fmt: skip


@pytest.fixture(autouse=True)
def _staff_a_may_also_add_and_delete_providers(staff_a):
    """The "Provider staff" group may not; these tests are about the endpoints, the permission
    matrix is tests/api/test_permissions.py."""
    grant(staff_a, "add_provider", "delete_provider")


def test_staff_create_a_provider_with_every_documented_field_and_manage_it(as_a, staff_a):
    response = as_a.post("/api/v1/providers/", PROVIDER, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in PROVIDER} == PROVIDER
    assert Provider.objects.get(pk=body["id"]).staff.filter(pk=staff_a.pk).exists()


def test_create_with_an_unknown_zone_is_a_400_naming_it(as_a):
    response = as_a.post("/api/v1/providers/", {**PROVIDER, "timezone": "Mars/Olympus"}, format="json")
    assert response.status_code == 400
    assert "timezone" in response.json()["fields"]


def test_create_with_a_fixed_offset_zone_is_a_400(as_a):
    response = as_a.post("/api/v1/providers/", {**PROVIDER, "timezone": "+05:00"}, format="json")
    assert response.status_code == 400
    assert "timezone" in response.json()["fields"]


@pytest.mark.parametrize("alias", ["US/Eastern", "Canada/Pacific"])
def test_create_with_an_old_zone_alias_is_a_400_naming_it(as_a, alias):
    response = as_a.post("/api/v1/providers/", {**PROVIDER, "timezone": alias}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["timezone"] == [
        f"Unknown time zone {alias!r}: use an IANA name such as Europe/Berlin."
    ]


def test_create_with_a_duplicate_slug_is_a_400(as_a, provider_a):
    response = as_a.post("/api/v1/providers/", {**PROVIDER, "slug": provider_a.slug}, format="json")
    assert response.status_code == 400
    assert "slug" in response.json()["fields"]


def test_a_fee_above_the_price_is_a_400_from_model_validation(as_a):
    response = as_a.post("/api/v1/providers/", {**PROVIDER, "late_cancel_fee": "99.00"}, format="json")
    assert response.status_code == 400
    assert "late_cancel_fee" in response.json()["fields"]


def test_patch_changes_only_the_given_fields(as_a, provider_a):
    response = as_a.patch(f"/api/v1/providers/{provider_a.pk}/", {"slot_minutes": 45}, format="json")
    assert response.status_code == 200
    provider_a.refresh_from_db()
    assert (service_of(provider_a).duration_minutes, provider_a.name) == (45, "A Dentist")


def test_delete_without_bookings_deletes(as_a, provider_a):
    assert as_a.delete(f"/api/v1/providers/{provider_a.pk}/").status_code == 204
    assert not Provider.objects.filter(pk=provider_a.pk).exists()


def test_delete_with_bookings_deactivates_instead(as_a, provider_a):
    BookingFactory(provider=provider_a)
    response = as_a.delete(f"/api/v1/providers/{provider_a.pk}/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    provider_a.refresh_from_db()
    assert provider_a.is_active is False


# --- rules -------------------------------------------------------------------------------------


def test_rules_can_be_created_read_patched_and_deleted(as_a, provider_a):
    url = f"/api/v1/providers/{provider_a.pk}/availability-rules/"
    rule = {"kind": "open", "rrule": "FREQ=WEEKLY;BYDAY=TU", "starts_on": "2027-01-05", "ends_on": None,
            "start_time": "10:00", "end_time": "14:00"}  # fmt: skip
    created = as_a.post(url, rule, format="json")
    assert created.status_code == 201, created.json()
    assert {k: created.json()[k] for k in rule} == rule
    rule_url = f"{url}{created.json()['id']}/"
    assert as_a.get(rule_url).json()["rrule"] == "FREQ=WEEKLY;BYDAY=TU"
    assert as_a.patch(rule_url, {"end_time": "15:30"}, format="json").json()["end_time"] == "15:30"
    assert len(as_a.get(url).json()) == 2  # the fixture's always-open rule and this one
    assert as_a.delete(rule_url).status_code == 204
    assert not AvailabilityRule.objects.filter(pk=created.json()["id"]).exists()


def test_a_bad_rrule_is_a_400_naming_rrule(as_a, provider_a):
    url = f"/api/v1/providers/{provider_a.pk}/availability-rules/"
    bad = {"kind": "open", "rrule": "FREQ=SOMETIMES", "starts_on": "2027-01-05", "start_time": "10:00",
           "end_time": "14:00"}  # fmt: skip
    response = as_a.post(url, bad, format="json")
    assert response.status_code == 400
    assert "rrule" in response.json()["fields"]


@pytest.mark.parametrize(
    ("rrule", "starts_on", "field"),
    [
        ("FREQ=DAILY;INTERVAL=0", "2027-01-05", "rrule"),
        ("FREQ=DAILY", "0001-01-01", "starts_on"),
        ("FREQ=DAILY", "2201-01-01", "starts_on"),
        ("FREQ=DAILY;COUNT=1001", "2027-01-05", "rrule"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "2027-01-05", "rrule"),
    ],
)
def test_a_rule_the_engine_cannot_serve_is_a_400_naming_the_field(as_a, provider_a, rrule, starts_on, field):
    url = f"/api/v1/providers/{provider_a.pk}/availability-rules/"
    bad = {"kind": "open", "rrule": rrule, "starts_on": starts_on, "start_time": "10:00", "end_time": "14:00"}
    response = as_a.post(url, bad, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_a_rule_ending_before_it_starts_is_a_400(as_a, provider_a):
    url = f"/api/v1/providers/{provider_a.pk}/availability-rules/"
    bad = {"kind": "open", "rrule": "FREQ=DAILY", "starts_on": "2027-01-05", "ends_on": "2027-01-01",
           "start_time": "10:00", "end_time": "14:00"}  # fmt: skip
    response = as_a.post(url, bad, format="json")
    assert response.status_code == 400
    assert "ends_on" in response.json()["fields"]


# --- blocked times -----------------------------------------------------------------------------


def test_blocked_times_can_be_created_listed_and_deleted(as_a, provider_a):
    url = f"/api/v1/providers/{provider_a.pk}/blocked-times/"
    body = {"start_at": "2027-02-01T12:00:00Z", "end_at": "2027-02-01T13:00:00Z", "reason": "break", "note": "x"}
    created = as_a.post(url, body, format="json")
    assert created.status_code == 201
    assert created.json()["start_at"] == "2027-02-01T12:00:00Z"
    assert len(as_a.get(url).json()) == 1
    assert as_a.delete(f"{url}{created.json()['id']}/").status_code == 204
    assert not BlockedTime.objects.exists()


def test_a_blocked_time_ending_before_it_starts_is_a_400(as_a, provider_a):
    body = {"start_at": "2027-02-01T12:00:00Z", "end_at": "2027-02-01T11:00:00Z", "reason": "break"}
    response = as_a.post(f"/api/v1/providers/{provider_a.pk}/blocked-times/", body, format="json")
    assert response.status_code == 400
    assert "end_at" in response.json()["fields"]


def test_a_naive_blocked_time_is_a_400_naming_the_field(as_a, provider_a):
    body = {"start_at": "2027-02-01T12:00:00", "end_at": "2027-02-01T13:00:00Z", "reason": "break"}
    response = as_a.post(f"/api/v1/providers/{provider_a.pk}/blocked-times/", body, format="json")
    assert response.status_code == 400
    assert "start_at" in response.json()["fields"]


# --- slots -------------------------------------------------------------------------------------


def test_slots_are_utc_with_z_plus_a_local_start_in_the_asked_zone(anon):
    provider = ProviderFactory(timezone="America/New_York", min_notice_minutes=0)
    from tests.factories import AvailabilityRuleFactory

    AvailabilityRuleFactory(provider=provider)  # weekdays 09:00-17:00
    response = anon.get(f"/api/v1/providers/{provider.pk}/slots/",
                        {"start": "2027-03-16", "end": "2027-03-16", "tz": "Asia/Tokyo"})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert (body["provider"], body["timezone"]) == (provider.pk, "Asia/Tokyo")
    assert body["slots"][0] == {
        "start": "2027-03-15T15:00:00Z",
        "end": "2027-03-15T15:30:00Z",
        "local_start": "2027-03-16T00:00:00+09:00",
        "local_end": "2027-03-16T00:30:00+09:00",
    }
    assert all(s["local_start"].startswith("2027-03-16") for s in body["slots"])


def test_slots_default_to_the_providers_zone(anon, provider_b):
    body = anon.get(f"/api/v1/providers/{provider_b.pk}/slots/", {"start": "2030-01-07", "end": "2030-01-07"}).json()
    assert body["timezone"] == "Europe/Berlin"
    assert body["slots"][0]["local_start"] == "2030-01-07T00:00:00+01:00"


def test_slots_local_start_at_offset_zero_keeps_plus_zero_zero(anon):
    # London in winter is at +00:00; a `Z` there would read as "UTC", not as London's wall clock.
    provider = ProviderFactory(timezone="Europe/London", min_notice_minutes=0)
    from tests.factories import AvailabilityRuleFactory

    AvailabilityRuleFactory(provider=provider)  # weekdays 09:00-17:00
    body = anon.get(f"/api/v1/providers/{provider.pk}/slots/", {"start": "2030-01-07", "end": "2030-01-07"}).json()
    assert body["slots"][0] == {
        "start": "2030-01-07T09:00:00Z",
        "end": "2030-01-07T09:30:00Z",
        "local_start": "2030-01-07T09:00:00+00:00",
        "local_end": "2030-01-07T09:30:00+00:00",
    }
    summer = anon.get(f"/api/v1/providers/{provider.pk}/slots/", {"start": "2030-07-08", "end": "2030-07-08"}).json()
    assert summer["slots"][0]["local_start"] == "2030-07-08T09:00:00+01:00"
    assert summer["slots"][0]["start"] == "2030-07-08T08:00:00Z"


def test_slots_for_more_than_62_days_is_a_400(anon, provider_a):
    start = date(2030, 1, 1)
    response = anon.get(f"/api/v1/providers/{provider_a.pk}/slots/",
                        {"start": start.isoformat(), "end": (start + timedelta(days=62)).isoformat()})  # fmt: skip
    assert response.status_code == 400
    assert "end" in response.json()["fields"]


def test_slots_with_an_unknown_zone_is_a_400(anon, provider_a):
    response = anon.get(f"/api/v1/providers/{provider_a.pk}/slots/", {"tz": "Nowhere/Land"})
    assert response.status_code == 400
    assert "tz" in response.json()["fields"]


def test_slots_in_an_old_zone_alias_is_a_400_naming_tz(anon, provider_a):
    response = anon.get(f"/api/v1/providers/{provider_a.pk}/slots/", {"tz": "US/Eastern"})
    assert response.status_code == 400
    assert "tz" in response.json()["fields"]


def test_slots_leave_out_taken_time(anon, provider_a):
    start = future_slot(days=3, hour=10)
    BookingFactory(provider=provider_a, start_at=start)
    day = start.date().isoformat()
    starts = [s["start"] for s in anon.get(f"/api/v1/providers/{provider_a.pk}/slots/",
                                           {"start": day, "end": day, "tz": "UTC"}).json()["slots"]]  # fmt: skip
    assert start.isoformat().replace("+00:00", "Z") not in starts
    assert len(starts) == 47


def test_slots_are_throttled(anon, provider_a, settings):
    from rest_framework.throttling import ScopedRateThrottle

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"slots": "3/min"}}
    ScopedRateThrottle.THROTTLE_RATES = {"slots": "3/min"}
    try:
        codes = [anon.get(f"/api/v1/providers/{provider_a.pk}/slots/").status_code for _ in range(4)]
    finally:
        from rest_framework.settings import api_settings

        ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert codes == [200, 200, 200, 429]


def test_slots_carry_their_end_in_the_asked_zone_as_local_end(anon, provider_b):
    day = {"start": "2030-01-07", "end": "2030-01-07", "tz": "America/New_York"}
    slots = anon.get(f"/api/v1/providers/{provider_b.pk}/slots/", day).json()["slots"]
    assert slots and all(s["local_end"].endswith("-05:00") for s in slots)
    assert slots[0]["local_end"] == "2030-01-07T00:30:00-05:00"


# --- listing in pages ---------------------------------------------------------------------------


def test_a_bare_providers_get_keeps_answering_the_plain_array(anon, provider_a, provider_b):
    body = anon.get("/api/v1/providers/").json()
    assert isinstance(body, list)
    assert [p["slug"] for p in body] == ["a-dentist", "b-room"]


def test_providers_come_in_pages_like_bookings_when_asked(anon, provider_a, provider_b):
    first = anon.get("/api/v1/providers/", {"page_size": 1}).json()
    assert (first["count"], first["previous"], [p["slug"] for p in first["results"]]) == (2, None, ["a-dentist"])
    second = anon.get(first["next"]).json()
    assert ([p["slug"] for p in second["results"]], second["next"]) == (["b-room"], None)
    assert anon.get("/api/v1/providers/", {"page": 1}).json()["count"] == 2


@pytest.mark.parametrize("page_size", ["0", ""], ids=["zero", "empty"])
def test_a_page_size_below_one_or_empty_is_a_400_naming_it(anon, provider_a, page_size):
    response = anon.get(f"/api/v1/providers/?page_size={page_size}")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["page_size"]
