"""Admin: read-only inlines on the booking page, the notification log with its filters and the
"retry failed" action, scoped to the providers a staff user manages."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from notifications.admin import NotificationInline, ReminderInline
from notifications.models import Notification, Reminder
from scheduling.formatting import local_time
from scheduling.services import CustomerData, booking_create
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
    assert "1440" in html and "desk@clinic.example" in html
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
    assert "1440" in page  # the inline, through the group's view permission
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
