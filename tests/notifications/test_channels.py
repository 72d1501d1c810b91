"""What goes out on each channel: email with text, HTML and .ics; SMS through the real Twilio SDK
against a local fake of its API; push as JSON to a local webhook. Times in the recipient's zone."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from notifications import services
from notifications.content import humanise
from notifications.models import Channel, Notification, Reminder
from scheduling.services import CustomerData, booking_create, booking_reschedule
from tests.factories import CustomerFactory, PaidChargeFactory, UserFactory, service_of
from tests.notifications.conftest import TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN, due_reminders

pytestmark = pytest.mark.django_db

START = datetime(2031, 3, 17, 14, 0, tzinfo=UTC)  # 10:00 EDT in New York, 14:00 GMT in London


@pytest.fixture
def booking(provider):
    provider.staff.add(UserFactory(username="desk", email="desk@clinic.example"))
    customer = CustomerData(name="Ada", email="ada@example.com", phone="+447700900123", timezone="Europe/London")
    return booking_create(provider_id=provider.pk, start=START, customer=customer)


def sent_to(mailoutbox, address):
    [message] = [m for m in mailoutbox if m.to == [address]]
    return message


def test_each_recipient_reads_the_time_in_their_own_zone_with_the_zone_named(booking, mailoutbox):
    services.notifications_dispatch()

    customer = sent_to(mailoutbox, "ada@example.com")
    assert customer.subject == "Booking confirmed: Dr Ada, Mon 17 Mar 2031, 14:00 GMT (Europe/London)"
    assert "When: Mon 17 Mar 2031, 14:00 GMT (Europe/London) until 14:30 GMT (Europe/London)" in customer.body
    [(html, mimetype)] = customer.alternatives
    assert mimetype == "text/html" and "14:00 GMT (Europe/London)" in html and "<strong>Dr Ada</strong>" in html

    provider = sent_to(mailoutbox, "desk@clinic.example")
    assert provider.subject == "New booking: Ada, Mon 17 Mar 2031, 10:00 EDT (America/New_York)"
    assert "Ada (ada@example.com, +447700900123) has booked Dr Ada." in provider.body


def test_the_confirmation_carries_an_ics_in_utc(booking, mailoutbox):
    services.notifications_dispatch()

    [(filename, content, mimetype)] = sent_to(mailoutbox, "ada@example.com").attachments
    assert (filename, mimetype) == (f"booking-{booking.reference}.ics", "text/calendar")
    raw = content if isinstance(content, bytes) else content.encode()
    assert b"DTSTART:20310317T140000Z" in raw and b"DTEND:20310317T143000Z" in raw
    [event] = Calendar.from_ical(raw).walk("VEVENT")
    assert event.decoded("dtstart") == START
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["uid"]).startswith(booking.reference)


def test_a_reschedule_names_both_times_and_carries_the_old_event_cancelled_and_the_new_one(booking, mailoutbox):
    new = booking_reschedule(booking_id=booking.pk, start=START + timedelta(days=1, hours=2))
    services.notifications_dispatch()

    [email] = [m for m in mailoutbox if m.to == ["ada@example.com"] and m.subject.startswith("Booking moved")]
    assert "Was: Mon 17 Mar 2031, 14:00 GMT (Europe/London)" in email.body
    assert "Now: Tue 18 Mar 2031, 16:00 GMT (Europe/London)" in email.body
    statuses = {}
    for filename, content, _ in email.attachments:
        [event] = Calendar.from_ical(content).walk("VEVENT")
        statuses[filename] = str(event["status"])
    assert statuses == {f"booking-{booking.reference}.ics": "CANCELLED", f"booking-{new.reference}.ics": "CONFIRMED"}


def test_a_reminder_says_how_soon_and_when_in_the_customer_zone(mailoutbox):
    [reminder] = due_reminders(1)  # starts in two hours; the customer lives in America/Chicago
    services.reminders_dispatch()

    [email] = mailoutbox
    assert email.subject.startswith("Reminder: Provider")
    assert " in 2 hours" in email.subject and "(America/Chicago)" in email.subject
    assert email.attachments == []
    assert email.extra_headers["X-Notification-Key"] == reminder.dedup_key
    assert email.extra_headers["Message-ID"] == f"<{reminder.dedup_key.replace(':', '.')}@localhost>"


def test_sms_goes_through_the_twilio_sdk(twilio, settings):
    settings.SMS_BACKEND = "twilio"
    customer = CustomerFactory(phone="+15551230000", timezone="Asia/Tokyo")
    [reminder] = due_reminders(1, channel=Channel.SMS, customer=customer)

    assert services.reminders_dispatch().sent == 1

    [request] = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request["auth"] == "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert request["form"]["To"] == "+15551230000" and request["form"]["From"] == TWILIO_FROM
    assert request["form"]["Body"].startswith("Reminder: Provider")
    assert "JST (Asia/Tokyo)" in request["form"]["Body"]
    reminder.refresh_from_db()
    assert reminder.provider_message_id == "SM" + "1".zfill(32)


def test_sms_with_twilio_chosen_but_no_credentials_is_a_recorded_failure(settings):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ""
    [reminder] = due_reminders(1, channel=Channel.SMS, customer=CustomerFactory(phone="+15551230000"))
    assert services.reminders_dispatch().failed == 1
    reminder.refresh_from_db()
    assert reminder.last_error == (
        "SMS_BACKEND is twilio but TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER not set."
    )


def test_development_sms_backends_print_or_write_a_file(settings, capsys, tmp_path):
    customer = CustomerFactory(phone="+15551230000")
    first, second = due_reminders(2, channel=Channel.SMS, customer=customer)
    settings.SMS_BACKEND = "console"
    assert services.reminders_dispatch(limit=1).sent == 1
    assert f"SMS to +15551230000 [{first.dedup_key}]: Reminder:" in capsys.readouterr().out

    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path)
    assert services.reminders_dispatch().sent == 1
    [line] = next(tmp_path.glob("sms-*.jsonl")).read_text().splitlines()
    assert json.loads(line)["key"] == second.dedup_key


def test_push_posts_json_to_the_webhook(push):
    user = UserFactory(is_staff=False)
    [reminder] = due_reminders(1, channel=Channel.PUSH, customer=CustomerFactory(user=user))

    assert services.reminders_dispatch().sent == 1

    [request] = push.requests
    assert request["auth"] == "Bearer relay-token"
    body = request["body"]
    assert body["to"] == f"user:{user.pk}"
    assert body["idempotency_key"] == reminder.dedup_key
    assert body["title"].startswith("Reminder: Provider") and body["body"].startswith("Reminder: Provider")
    assert body["data"]["booking"] == reminder.booking.reference
    reminder.refresh_from_db()
    assert reminder.provider_message_id == "push-1"


def test_push_refusals_fail_at_once_and_server_errors_are_retried(push):
    bad = CustomerFactory(user=UserFactory(is_staff=False))
    flaky = CustomerFactory(user=UserFactory(is_staff=False))
    [refused] = due_reminders(1, channel=Channel.PUSH, customer=bad)
    [retried] = due_reminders(1, channel=Channel.PUSH, customer=flaky)
    push.statuses = {f"user:{bad.user_id}": 400, f"user:{flaky.user_id}": 503}

    result = services.reminders_dispatch()

    assert (result.failed, result.retrying) == (1, 1)
    refused.refresh_from_db()
    retried.refresh_from_db()
    assert refused.status == "failed" and refused.last_error == "push webhook answered 400 Bad Request"
    assert retried.status == "scheduled" and retried.last_error == "push webhook answered 503 Service Unavailable"


def test_push_without_a_webhook_url_is_a_recorded_failure(settings):
    [reminder] = due_reminders(1, channel=Channel.PUSH, customer=CustomerFactory(user=UserFactory(is_staff=False)))
    services.reminders_dispatch()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED
    assert reminder.last_error == "Push is not configured: set PUSH_WEBHOOK_URL (or PUSH_BACKEND=console)."


def test_a_cancellation_states_the_fee_and_the_refund(provider, mailoutbox):
    from scheduling.services import booking_cancel

    service = service_of(provider)
    service.price, service.late_cancel_fee, service.free_cancel_hours = "80.00", "20.00", 24 * 365 * 10
    service.save()
    booking = booking_create(provider_id=provider.pk, start=START, customer=CustomerData("Ada", "ada@example.com"))
    PaidChargeFactory(booking=booking)
    booking_cancel(booking_id=booking.pk)
    services.notifications_dispatch()

    email = next(m for m in mailoutbox if m.subject.startswith("Booking cancelled"))
    assert "Reason: Cancelled by the customer" in email.body
    assert "Late cancellation fee: 20.00 USD" in email.body and "Refund: 60.00 USD" in email.body
    assert Notification.objects.filter(kind="cancellation", status="sent").count() == 1


@pytest.mark.parametrize(
    ("minutes", "words"),
    [(1440, "1 day"), (60, "1 hour"), (15, "15 minutes"), (150, "2 hours 30 minutes"), (0.2, "less than a minute")],
)
def test_humanise(minutes, words):
    assert humanise(timedelta(minutes=minutes)) == words
