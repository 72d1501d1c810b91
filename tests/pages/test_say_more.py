"""Saying more: notes on the booking form, a reason when cancelling, the manage link in the .ics."""

from django.urls import reverse

from scheduling.models import Booking
from tests.pages.conftest import free_start, iso, make_booking


def test_the_booking_form_stores_the_customers_notes(client, provider):
    start = free_start(provider)
    data = {
        "start": iso(start),
        "name": "Ann",
        "email": "ann@example.com",
        "phone": "",
        "timezone": "Europe/Paris",
        "notes": "Wheelchair access, please.",
    }

    response = client.post(f"{reverse('pages:book', args=[provider.slug])}?start={iso(start)}", data)

    assert response.status_code == 302
    assert Booking.objects.get(start_at=start).notes == "Wheelchair access, please."


def test_the_cancel_page_asks_for_an_optional_reason(client, provider):
    booking = make_booking(provider)

    html = client.get(reverse("pages:cancel_confirm", args=[booking.reference, booking.manage_token])).content.decode()

    assert 'name="note"' in html


def test_the_reason_for_cancelling_is_kept_on_the_booking(client, provider):
    booking = make_booking(provider)

    client.post(
        reverse("pages:cancel", args=[booking.reference]),
        {"token": booking.manage_token, "quoted_fee": "0.00", "note": "  Caught the flu.  "},
    )

    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert booking.notes == "Cancellation note: Caught the flu."


def test_the_calendar_file_carries_the_manage_link(client, provider):
    booking = make_booking(provider)
    manage = reverse("pages:manage", args=[booking.reference, booking.manage_token])

    body = client.get(reverse("pages:manage_ics", args=[booking.reference, booking.manage_token])).content.decode()

    unfolded = body.replace("\r\n ", "")
    assert f"http://testserver{manage}" in unfolded
