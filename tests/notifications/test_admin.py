"""Admin: read-only inlines on the booking page, the notification log with its filters and the
"retry failed" action, scoped to the providers a staff user manages."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.html import escape

from notifications import content
from notifications.admin import NotificationInline, ReminderInline, lead_time
from notifications.models import Notification, Reminder
from scheduling.formatting import local_time
from scheduling.services import CustomerData, booking_create, manage_links_send
from tests.factories import UserFactory
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db

LOG = "/admin/notifications/notification/"


@pytest.fixture
def booking(provider):
    provider.staff.add(UserFactory(username="desk", email="desk@clinic.example"))
    return booking_create(provider_id=provider.pk, start=future_slot(), customer=CustomerData("Ada", "ada@example.com"))


@pytest.fixture
def root(client):
    client.force_login(UserFactory(username="root", is_superuser=True))
    return client


@pytest.fixture
def desk(client, provider):
    """A staff user of `provider`, with the "Provider staff" group's permissions."""
    user = UserFactory(username="staffer")
    user.groups.add(Group.objects.get(name="Provider staff"))
    provider.staff.add(user)
    client.force_login(user)
    return client


def test_the_inlines_are_read_only():
    for inline in (ReminderInline, NotificationInline):
        assert inline.can_delete is False
        assert set(inline.fields) == set(inline.readonly_fields)
        assert inline.has_add_permission(inline, None) is False
        assert inline.has_change_permission(inline, None) is False


def test_the_booking_page_lists_its_reminders_and_notifications(root, booking):
    html = root.get(f"/admin/scheduling/booking/{booking.pk}/change/").content.decode()
    assert "Reminders" in html and "Notifications" in html
    assert "1 day before" in html and "desk@clinic.example" in html
    assert 'name="reminders-0-channel"' not in html  # shown, not editable


def test_the_log_filters_by_status_and_channel(root, booking):
    booking.notifications.filter(address="desk@clinic.example").update(status=Notification.Status.FAILED)

    failed = root.get(LOG, {"status__exact": "failed", "channel__exact": "email"}).content.decode()
    pending = root.get(LOG, {"status__exact": "pending"}).content.decode()

    assert "desk@clinic.example" in failed and "ada@example.com" not in failed
    assert "ada@example.com" in pending and "desk@clinic.example" not in pending


def test_retry_failed_requeues_only_failed_rows(root, booking):
    rows = list(booking.notifications.all())
    Notification.objects.filter(pk=rows[0].pk).update(status="failed", attempts=5, last_error="boom")
    Notification.objects.filter(pk=rows[1].pk).update(status="sent", sent_at=timezone.now())

    response = root.post(LOG, {"action": "retry_failed", "_selected_action": [r.pk for r in rows]}, follow=True)

    assert "1 failed notification(s) queued again." in response.content.decode()
    retried = Notification.objects.get(pk=rows[0].pk)
    assert (retried.status, retried.attempts) == ("pending", 0)
    assert Notification.objects.get(pk=rows[1].pk).status == "sent"


def test_staff_see_the_rows_of_their_own_providers_only(desk, booking):
    other = open_all_day_provider(slug="elsewhere")
    booking_create(provider_id=other.pk, start=future_slot(), customer=CustomerData("Bo", "bo@example.com"))

    html = desk.get(LOG).content.decode()
    assert "ada@example.com" in html and "bo@example.com" not in html
    assert desk.get("/admin/notifications/reminder/").status_code == 200
    page = desk.get(f"/admin/scheduling/booking/{booking.pk}/change/").content.decode()
    assert "1 day before" in page  # the inline, through the group's view permission
    assert Reminder.objects.count() == 6


def test_sent_and_fire_times_are_shown_in_the_providers_zone_and_name_it(root, booking):
    zone = booking.provider_timezone.key
    sent = (timezone.now() - timedelta(days=3, minutes=17)).replace(microsecond=0)  # a minute nothing else shows
    booking.notifications.update(status=Notification.Status.SENT, sent_at=sent)
    booking.reminders.update(status=Reminder.Status.SENT, sent_at=sent)
    expected = local_time(sent, booking.provider_timezone)
    assert zone != "UTC" and expected.endswith(f"({zone})")

    page = root.get(f"/admin/scheduling/booking/{booking.pk}/change/").content.decode()
    assert page.count(expected) == booking.notifications.count() + booking.reminders.count()
    assert expected in root.get(LOG).content.decode()
    reminders = root.get("/admin/notifications/reminder/").content.decode()
    assert expected in reminders
    assert local_time(booking.reminders.first().fire_at, booking.provider_timezone) in reminders


def _page(client, row) -> str:
    return client.get(f"/admin/notifications/{row._meta.model_name}/{row.pk}/change/").content.decode()


def test_a_log_entry_page_shows_its_times_in_the_providers_zone_named(root, booking):
    row = booking.notifications.get(address="ada@example.com")
    html = _page(root, row)
    assert local_time(row.created_at, booking.provider_timezone) in html
    assert f"({booking.provider_timezone.key})" in html


def test_a_sent_message_has_no_next_attempt_and_a_pending_one_does(root, booking):
    sent, pending = booking.notifications.all()[:2]
    Notification.objects.filter(pk=sent.pk).update(status=Notification.Status.SENT, sent_at=timezone.now())
    assert "Next attempt" not in _page(root, sent)
    assert "Next attempt" in _page(root, pending)


def test_a_log_entry_is_read_only_without_save_or_delete(root, desk, booking):
    row = booking.notifications.first()
    for client in (root, desk):
        html = _page(client, row)
        assert 'name="_save"' not in html and 'name="_continue"' not in html
        assert "deletelink" not in html
        response = client.post(f"/admin/notifications/notification/{row.pk}/change/", {"status": "sent"})
        assert response.status_code == 403
    assert Notification.objects.get(pk=row.pk).status == row.status
    assert root.get("/admin/notifications/notification/add/").status_code == 403
    assert desk.get(f"/admin/notifications/notification/{row.pk}/delete/").status_code == 403


def test_a_log_entry_shows_the_rendered_subject_and_body_without_the_manage_link(root, booking):
    row = booking.notifications.get(address="ada@example.com")
    sent = content.notification_message(row, now=timezone.now())
    html = _page(root, row)
    assert escape(sent.subject) in html
    first_line = sent.text.strip().splitlines()[0]
    assert escape(first_line) in html
    assert "/b/" + booking.reference not in html  # the customer's private link is not shown to staff
    assert "private manage link" in html


def test_reminders_are_titled_in_words_with_service_provider_and_customer(root, booking):
    reminder = booking.reminders.get(lead_minutes=1440, channel="email")
    title = f"Reminder 1 day before: {booking.provider.name}, Ada"
    assert title in root.get("/admin/notifications/reminder/").content.decode()
    page = _page(root, reminder)
    assert title in page and "1440" not in page
    assert f"reminder {1440} min before {booking.pk}" not in page.lower()


def test_the_reminder_lead_time_filter_is_in_words(root, booking):
    html = root.get("/admin/notifications/reminder/").content.decode()
    assert ">1 day before</a>" in html


def test_lead_times_read_as_a_person_says_them():
    assert lead_time(1440) == "1 day before"
    assert lead_time(120) == "2 hours before"
    assert lead_time(90) == "1 hour 30 minutes before"


def test_staff_cannot_read_a_links_email_that_lists_another_providers_bookings(desk, booking):
    elsewhere = open_all_day_provider(name="Beta Rooms", slug="beta-rooms")
    other = booking_create(
        provider_id=elsewhere.pk, start=future_slot(), customer=CustomerData("Ada", "ada@example.com")
    )
    manage_links_send(email="ada@example.com")
    sent = Notification.objects.get(kind=Notification.Kind.LINKS)
    assert sent.booking.provider_id == booking.provider_id  # attached to the soonest: ours

    page = _page(desk, sent)

    assert "Beta Rooms" not in page and other.reference not in page
    assert "Not shown" in page
