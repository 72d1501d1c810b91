"""The availability editor in headless Chromium: weekly hours and a lunch break set without RRULE, the
provider page's preview following them; the rules table fitting its box on a desktop and a phone."""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from scheduling.models import AvailabilityRule
from tests.e2e.conftest import ARTIFACTS, screenshot
from tests.factories import AvailabilityRuleFactory, ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "console-pass-123"
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}


def log_in(page, base: str) -> None:
    UserFactory(username="scheduler", password=PASSWORD, is_superuser=True)
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("input[name=username]", "scheduler")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def next_monday(zone) -> date:
    today = timezone.now().astimezone(zone).date()
    return today + timedelta(days=7 - today.weekday())  # never today: notice cannot cut its morning


def test_staff_set_weekday_hours_with_a_lunch_break_and_the_preview_follows(browser_context, live_server):
    page = browser_context(viewport=DESKTOP).new_page()
    provider = ProviderFactory(name="Linden Physio", slug="linden", timezone="Europe/Berlin", duration_minutes=30)
    base = live_server.url
    log_in(page, base)

    page.goto(f"{base}/admin/scheduling/provider/{provider.pk}/change/")
    page.click("text=Weekly hours & exceptions")
    page.wait_for_selector("#weekly")
    screenshot(page, "availability-1-empty-editor")
    for day in range(5):  # Monday to Friday
        page.fill(f"input[name=weekly-d{day}_0_start]", "09:00")
        page.fill(f"input[name=weekly-d{day}_0_end]", "17:00")
    screenshot(page, "availability-2-weekdays-filled")
    page.click("input[name=_weekly]")
    page.wait_for_selector(".messagelist .success")
    assert "Weekly hours saved." in page.locator(".messagelist").inner_text()

    # The lunch break, Monday to Friday are ticked already.
    page.fill("input[name=break-start]", "12:00")
    page.fill("input[name=break-end]", "13:00")
    page.fill("input[name=break-label]", "Lunch")
    page.click("input[name=_break]")
    page.wait_for_selector(".messagelist .success")
    assert "Added: Closed every weekday, 12:00–13:00." in page.locator(".messagelist").inner_text()
    other_rules = page.locator(".other-rules").inner_text()
    assert "Closed every weekday, 12:00–13:00" in other_rules and "Lunch" in other_rules
    assert page.locator("input[name=weekly-d0_0_start]").input_value() == "09:00"
    assert page.locator("input[name=weekly-d5_0_start]").input_value() == ""  # Saturday stays closed
    screenshot(page, "availability-3-saved-with-lunch-break")

    assert sorted(
        AvailabilityRule.objects.filter(provider=provider).values_list("kind", "rrule", "start_time", "end_time")
    ) == [
        ("closed", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", time(12), time(13)),
        ("open", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", time(9), time(17)),
    ]

    # The provider page: the rules in plain words, and Monday's free slots in the preview.
    page.click(f"text={provider.name}")
    page.wait_for_selector("#rules-group")
    rules = page.locator("#rules-group").inner_text()
    assert "Every weekday, 09:00–17:00" in rules and "Closed every weekday, 12:00–13:00" in rules
    monday = next_monday(provider.timezone)
    day = page.locator(".preview-day").filter(has_text=f"{monday:%a} {monday.day} {monday:%b}")
    day.locator("summary").click()
    chips = [text.split()[0] for text in day.locator(".slot-chip").all_inner_texts()]
    assert chips == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "13:00",
        "13:30",
        "14:00",
        "14:30",
        "15:00",
        "15:30",
        "16:00",
        "16:30",
    ]
    day.scroll_into_view_if_needed()
    screenshot(page, "availability-4-provider-preview")


def _rules_fit(page) -> dict:
    """The rules table's width against its box, and whether the last Delete checkbox lies inside it."""
    return page.evaluate(
        """() => {
            const group = document.querySelector('#rules-group');
            const box = group.getBoundingClientRect();
            const table = group.querySelector('table');
            const boxes = [...group.querySelectorAll('td.delete input[type=checkbox]')]
                .map(e => e.getBoundingClientRect());
            const last = boxes[boxes.length - 1];
            return {box: box.width, table: table.scrollWidth, content: document.querySelector('#content').clientWidth,
                    deleteInside: boxes.length > 0 && boxes.every(b => b.right <= box.right + 0.5 && b.width > 0),
                    pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                    lastDeleteRight: last ? last.right : null};
        }"""
    )


@pytest.mark.parametrize("viewport, name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_rules_table_fits_its_box_with_delete_visible(browser_context, live_server, viewport, name):
    page = browser_context(viewport=viewport).new_page()
    provider = ProviderFactory(name="Wide Rules Clinic", slug="wide", timezone="America/Argentina/Buenos_Aires")
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", label="Weekday opening hours")
    AvailabilityRuleFactory(
        provider=provider, kind="closed", rrule="FREQ=MONTHLY;BYDAY=1SA;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12",
        starts_on=date(2026, 1, 3), ends_on=date(2027, 12, 31), start_time=time(0), end_time=time(0),
        label="Stocktaking, every first Saturday",
    )  # fmt: skip
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/scheduling/provider/{provider.pk}/change/")
    page.locator("#rules-group").scroll_into_view_if_needed()
    fit = _rules_fit(page)
    screenshot(page, f"availability-rules-table-{name}")
    page.locator("#rules-group").screenshot(path=str(ARTIFACTS / f"availability-rules-table-{name}-close-up.png"))
    assert fit["table"] <= fit["box"] + 1, fit
    assert fit["deleteInside"], fit
    assert fit["pageOverflow"] <= 0, fit


@pytest.mark.parametrize("viewport, name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_availability_page_fits_the_screen(browser_context, live_server, viewport, name):
    page = browser_context(viewport=viewport).new_page()
    provider = ProviderFactory(name="Narrow Clinic", slug="narrow", timezone="Europe/Berlin")
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", end_time=time(12))
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=MONTHLY;BYDAY=1SA", start_time=time(10), end_time=time(14))
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/scheduling/provider/{provider.pk}/availability/")
    assert page.locator("input[name=weekly-d4_0_end]").input_value() == "12:00"
    assert "First Saturday of each month, 10:00–14:00" in page.locator(".other-rules").inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    screenshot(page, f"availability-page-{name}")
    assert overflow <= 0
