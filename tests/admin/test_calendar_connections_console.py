"""Calendar connections in the console: staff link their own providers' calendars, sync them now, and
remove them with the busy times they imported; another provider's connections are not theirs."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from calendars.export_dispatch import exports_dispatch
from calendars.models import CalendarConnection
from calendars.services import calendar_connection_create, calendar_connection_sync
from scheduling.booking_events import BookingEvent, booking_changed
from scheduling.models import BlockedTime
from scheduling.selectors_console import calendar_clashes
from scheduling.services import CustomerData, booking_create
from tests.admin.conftest import messages_of, slot_in
from tests.calendar_fixtures import fixture_bytes
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/calendars/calendarconnection/"
calendar_permissions = importlib.import_module("calendars.migrations.0004_provider_staff_permissions")


@pytest.fixture(autouse=True)
def _granted(staff_group):
    calendar_permissions.grant(django_apps)


def test_staff_link_a_calendar_to_their_provider_through_the_service(as_staff_a, provider_a, calendar_server):
    response = as_staff_a.post(
        f"{LIST}add/",
        {"provider": provider_a.pk, "kind": "ical_url", "name": "Clinic calendar", "url": calendar_server.url,
         "sync_every_minutes": 10, "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    connection = CalendarConnection.objects.get()
    assert (connection.provider, connection.kind, connection.next_sync_at) == (provider_a, "ical_url", None)


def test_sync_now_imports_the_busy_times_and_says_how_many(as_staff_a, provider_a, calendar_server):
    calendar_server.body = fixture_bytes("google_export.ics")
    connection = calendar_connection_create(provider=provider_a, url=calendar_server.url)

    response = as_staff_a.post(LIST, {"action": "sync_now", "_selected_action": [connection.pk]}, follow=True)

    assert BlockedTime.objects.filter(provider=provider_a, reason="external").exists()
    assert any("added" in message for message in messages_of(response))


def test_removing_a_connection_removes_what_it_imported(as_staff_a, provider_a, calendar_server):
    calendar_server.body = fixture_bytes("google_export.ics")
    connection = calendar_connection_create(provider=provider_a, url=calendar_server.url)
    as_staff_a.post(LIST, {"action": "sync_now", "_selected_action": [connection.pk]})

    as_staff_a.post(f"{LIST}{connection.pk}/delete/", {"post": "yes"})

    assert not CalendarConnection.objects.exists()
    assert not BlockedTime.objects.filter(provider=provider_a).exists()


def test_another_providers_connection_is_not_theirs(as_staff_a, provider_b, calendar_server):
    connection = calendar_connection_create(provider=provider_b, url=calendar_server.url)
    assert as_staff_a.get(f"{LIST}{connection.pk}/change/").status_code == 404
    assert str(connection) not in as_staff_a.get(LIST).content.decode()


def overlapped_booking(provider, calendar_server, email="ada@example.com"):
    """A booking of `provider`, and the calendar server serving one private event over it."""
    booking = booking_create(provider_id=provider.pk, start=slot_in(2), customer=CustomerData(name="Ada", email=email))
    start, end = booking.start_at - timedelta(minutes=15), booking.start_at + timedelta(minutes=15)
    calendar_server.body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:dentist@example.com\r\n"
        f"DTSTAMP:20261201T000000Z\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{end:%Y%m%dT%H%M%SZ}\r\n"
        "SUMMARY:Private\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    return booking


def test_a_booking_an_imported_event_overlaps_is_flagged_on_its_page(as_staff_a, provider_a, calendar_server):
    booking = overlapped_booking(provider_a, calendar_server)
    page = f"/admin/scheduling/booking/{booking.pk}/change/"
    assert "calendar-clash" not in as_staff_a.get(page).content.decode()

    connection = calendar_connection_create(provider=provider_a, url=calendar_server.url)
    as_staff_a.post(LIST, {"action": "sync_now", "_selected_action": [connection.pk]})

    assert "calendar-clash" in as_staff_a.get(page).content.decode()


def test_the_dashboard_lists_bookings_an_imported_event_overlaps(as_staff_a, provider_a, calendar_server):
    booking = overlapped_booking(provider_a, calendar_server)
    assert 'data-testid="calendar-clashes"' not in as_staff_a.get("/admin/").content.decode()

    calendar_connection_sync(connection_id=calendar_connection_create(provider=provider_a, url=calendar_server.url).pk)

    html = as_staff_a.get("/admin/").content.decode()
    clashes = html[html.index('data-testid="calendar-clashes"') : html.index('id="bookings-by-day"')]
    assert booking.reference in clashes and "<strong>1</strong>" in clashes


def test_the_booking_list_filters_the_overlapped_bookings(as_staff_a, provider_a, calendar_server):
    overlapped = overlapped_booking(provider_a, calendar_server)
    free = booking_create(
        provider_id=provider_a.pk, start=slot_in(3), customer=CustomerData(name="Bo", email="bo@example.com")
    )
    calendar_connection_sync(connection_id=calendar_connection_create(provider=provider_a, url=calendar_server.url).pk)

    html = as_staff_a.get("/admin/scheduling/booking/?calendar=clash").content.decode()

    assert overlapped.reference in html and free.reference not in html


def test_another_providers_overlapped_bookings_stay_off_the_dashboard(as_staff_a, staff_b, provider_b, calendar_server):
    booking = overlapped_booking(provider_b, calendar_server)
    calendar_connection_sync(connection_id=calendar_connection_create(provider=provider_b, url=calendar_server.url).pk)
    assert [b.pk for b in calendar_clashes(user=staff_b)] == [booking.pk]  # B's staff see it

    html = as_staff_a.get("/admin/").content.decode()

    assert booking.reference not in html and 'data-testid="calendar-clashes"' not in html


def test_changing_the_url_in_the_console_goes_through_the_service(as_staff_a, provider_a, calendar_server):
    connection = calendar_connection_create(provider=provider_a, url=calendar_server.url)
    CalendarConnection.objects.filter(pk=connection.pk).update(etag='"old"')

    as_staff_a.post(
        f"{LIST}{connection.pk}/change/",
        {"name": "", "url": calendar_server.url + "?v=2", "sync_every_minutes": 10,
         "is_active": "on"},
    )  # fmt: skip

    connection.refresh_from_db()
    assert (connection.url.endswith("?v=2"), connection.etag) == (True, "")


def test_staff_link_a_caldav_calendar_whose_password_is_never_shown_back(as_staff_a, provider_a):
    response = as_staff_a.post(
        f"{LIST}add/",
        {"provider": provider_a.pk, "kind": "caldav", "name": "Nextcloud", "url": "https://dav.example.com/cal/",
         "username": "ada", "password": "s3cret-app-password", "sync_every_minutes": 10, "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    connection = CalendarConnection.objects.get()
    assert connection.kind == "caldav"
    assert connection.credentials == {"username": "ada", "password": "s3cret-app-password"}

    page = as_staff_a.get(f"{LIST}{connection.pk}/change/").content.decode()
    assert "s3cret-app-password" not in page

    # A change that leaves the password blank keeps it; the kind stays what it was made as.
    as_staff_a.post(
        f"{LIST}{connection.pk}/change/",
        {"name": "Nextcloud (clinic)", "kind": "ical_url", "url": "https://dav.example.com/cal/", "username": "",
         "password": "", "sync_every_minutes": 10, "is_active": "on"},
    )  # fmt: skip
    connection.refresh_from_db()
    assert (connection.name, connection.kind) == ("Nextcloud (clinic)", "caldav")
    assert connection.credentials == {"username": "ada", "password": "s3cret-app-password"}


def test_a_google_calendar_needs_a_refresh_token(as_staff_a, provider_a):
    form = {"provider": provider_a.pk, "kind": "google", "name": "", "url": "", "account": "", "sync_every_minutes": 10,
            "is_active": "on"}  # fmt: skip

    refused = as_staff_a.post(f"{LIST}add/", form)
    assert refused.status_code == 200 and "needs a refresh_token" in refused.content.decode()
    assert not CalendarConnection.objects.exists()

    assert as_staff_a.post(f"{LIST}add/", {**form, "refresh_token": "1//refresh"}).status_code == 302
    connection = CalendarConnection.objects.get()
    assert (connection.account, connection.credentials) == ("primary", {"refresh_token": "1//refresh"})


def test_staff_see_what_was_exported_to_a_two_way_calendar(as_staff_a, provider_a, settings):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = False  # the send fails at once: an error to show
    connection = calendar_connection_create(
        provider=provider_a,
        kind="caldav",
        url="http://127.0.0.1:9/cal/",
        credentials={"username": "u", "password": "p"},
    )
    booking = BookingFactory(provider=provider_a, confirmed_at=timezone.now())
    booking_changed(booking=booking, event=BookingEvent.CREATED)
    exports_dispatch()

    page = as_staff_a.get(f"{LIST}{connection.pk}/change/").content.decode()

    assert "Exports" in page and booking.reference in page and "private or reserved address" in page
    assert '"p"' not in page


def view_only_staff(staff_group, provider, client):
    from django.contrib.auth.models import Permission

    from tests.admin.conftest import make_staff

    staff_group.permissions.remove(*Permission.objects.filter(codename="change_calendarconnection"))
    client.force_login(make_staff(staff_group, provider, username="viewer"))
    return client


def test_staff_who_may_only_view_connections_cannot_sync_one(client, staff_group, provider_a, calendar_server):
    calendar_server.body = fixture_bytes("google_export.ics")
    connection = calendar_connection_create(provider=provider_a, url=calendar_server.url)
    viewer = view_only_staff(staff_group, provider_a, client)

    viewer.post(LIST, {"action": "sync_now", "_selected_action": [connection.pk]})

    assert calendar_server.requests == []
    assert CalendarConnection.objects.get().last_synced_at is None


def test_the_console_never_shows_a_secret_ical_url_whole(as_staff_a, provider_a, calendar_server):
    secret = calendar_server.url + "?private=s3cr3t-token-abcd"
    connection = calendar_connection_create(provider=provider_a, url=secret)

    html = as_staff_a.get(f"{LIST}{connection.pk}/change/").content.decode()

    assert "s3cr3t-token" not in html and "…abcd" in html


def test_saving_a_connection_with_its_masked_url_keeps_the_url(as_staff_a, provider_a, calendar_server):
    secret = calendar_server.url + "?private=s3cr3t-token-abcd"
    connection = calendar_connection_create(provider=provider_a, url=secret)
    masked = f"http://{calendar_server.url.split('/')[2]}/…abcd"

    response = as_staff_a.post(
        f"{LIST}{connection.pk}/change/",
        {"name": "Renamed", "url": masked, "account": "", "sync_every_minutes": 10, "is_active": "on"},
    )

    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.name, connection.url) == ("Renamed", secret)


def test_a_viewer_sees_a_secret_ical_url_masked(client, staff_group, provider_a, calendar_server):
    connection = calendar_connection_create(provider=provider_a, url=calendar_server.url + "?private=s3cr3t-abcd")
    viewer = view_only_staff(staff_group, provider_a, client)

    response = viewer.get(f"{LIST}{connection.pk}/change/")

    assert response.status_code == 200 and "s3cr3t" not in response.content.decode()
