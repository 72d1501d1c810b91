"""The waitlist's customer pages: joining from a full day, the entry's page, accepting and declining."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from scheduling.models import Booking, BookingStatus
from scheduling.services import booking_cancel, booking_expire_holds
from tests.factories import service_of
from tests.waitlist.conftest import ANN, BEN, DAN, book, day_ahead, join, one_slot_a_day_provider
from waitlist import links
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.services import offers_make

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def full_day(db):
    """A provider open for one slot a day, three days ahead already booked by Dan."""
    provider = one_slot_a_day_provider()
    start = day_ahead()
    return provider, start, book(provider, DAN, start)


def join_form(day, **fields):
    return {"name": "Kenji Sato", "email": "kenji@example.com", "first": day.isoformat(), "timezone": "UTC", **fields}


def offered(provider, start, dans, *customers):
    entries = [join(provider, who, start) for who in customers]
    booking_cancel(booking_id=dans.pk)
    assert offers_make(service_id=service_of(provider).pk) == 1
    for entry in entries:
        entry.refresh_from_db()
    return entries


def test_a_full_day_offers_to_join_the_waitlist_for_that_day(client, full_day):
    provider, start, _ = full_day
    service = service_of(provider)
    page = client.get(f"/s/{service.slug}/?week={start.date().isoformat()}").content.decode()
    link = f"/s/{service.slug}/waitlist/?provider={provider.slug}&amp;first={start.date().isoformat()}"
    assert f'<a href="{link}" data-testid="join-day"' in page
    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert f'name="first" value="{start.date().isoformat()}"' in form


def test_a_day_with_free_times_offers_no_waitlist(client, db):
    provider = one_slot_a_day_provider()
    start = day_ahead()
    page = client.get(f"/s/{service_of(provider).slug}/?week={start.date().isoformat()}").content.decode()
    assert f"first={start.date().isoformat()}" not in page


def test_joining_from_tokyo_waits_from_local_midnight_to_local_midnight_after_the_last_day(client, full_day):
    provider, start, _ = full_day
    first = start.astimezone(TOKYO).date()
    response = client.post(
        f"/s/{service_of(provider).slug}/waitlist/",
        join_form(
            first,
            last=(first + timedelta(days=1)).isoformat(),
            timezone="Asia/Tokyo",
            from_time="09:00",
            to_time="20:00",
        ),
    )
    assert response.status_code == 200
    entry = WaitlistEntry.objects.get()
    assert entry.window_start == datetime.combine(first, time(0), tzinfo=TOKYO)
    assert entry.window_end == datetime.combine(first + timedelta(days=2), time(0), tzinfo=TOKYO)
    assert (entry.day_start, entry.day_end) == (time(9), time(20))
    assert str(entry.customer_timezone) == "Asia/Tokyo"
    body = response.content.decode()
    assert "You are number 1 in line." in body
    assert f"/w/{entry.pk}/" in body


def test_joining_twice_for_the_same_days_says_already_waiting(client, full_day):
    provider, start, _ = full_day
    url = f"/s/{service_of(provider).slug}/waitlist/"
    assert client.post(url, join_form(start.date())).status_code == 200
    response = client.post(url, join_form(start.date()))
    assert response.status_code == 409
    assert "already on the waitlist" in response.content.decode()
    assert WaitlistEntry.objects.count() == 1


def test_the_entry_page_shows_the_place_in_line_and_withdraws(client, full_day):
    provider, start, _ = full_day
    ann, ben = join(provider, ANN, start), join(provider, BEN, start)
    page = client.get(links.entry_path(ben)).content.decode()
    assert 'data-testid="position">2<' in page
    client.post(links.entry_path(ann, "waitlist_withdraw"))
    assert 'data-testid="position">1<' in client.get(links.entry_path(ben)).content.decode()
    ann.refresh_from_db()
    assert ann.status == EntryStatus.WITHDRAWN


def test_a_wrong_token_opens_nothing(client, full_day):
    provider, start, _ = full_day
    ann = join(provider, ANN, start)
    assert client.get(f"/w/{ann.pk}/nope/").status_code == 404
    other = join(provider, BEN, start)
    assert client.get(f"/w/{ann.pk}/{links.token_for(other)}/").status_code == 404


def test_the_accept_page_shows_the_time_and_confirms_the_booking(client, full_day):
    provider, start, dans = full_day
    [ann] = offered(provider, start, dans, ANN)
    page = client.get(links.entry_path(ann, "waitlist_accept")).content.decode()
    assert "CET (Europe/Berlin)" in page or "CEST (Europe/Berlin)" in page  # Ann's zone, not the provider's
    response = client.post(links.entry_path(ann, "waitlist_accept"))
    booking = Booking.objects.get(pk=ann.offer_booking_id)
    assert response.status_code == 302 and response["Location"] == f"/booked/{booking.reference}/"
    assert booking.status == BookingStatus.CONFIRMED
    confirmation = client.get(response["Location"]).content.decode()
    assert booking.reference in confirmation and 'data-testid="manage-link"' in confirmation


def test_declining_passes_the_time_to_the_next_in_line(client, full_day):
    provider, start, dans = full_day
    ann, ben = offered(provider, start, dans, ANN, BEN)
    response = client.post(links.entry_path(ann, "waitlist_decline"))
    assert response.status_code == 200 and 'data-testid="declined-note"' in response.content.decode()
    offers_make(service_id=service_of(provider).pk)
    ann.refresh_from_db(), ben.refresh_from_db()
    assert (ann.status, ben.status) == (EntryStatus.WITHDRAWN, EntryStatus.OFFERED)


def test_an_expired_offer_says_so_and_offers_to_join_again(client, full_day):
    provider, start, dans = full_day
    [ann] = offered(provider, start, dans, ANN)
    Booking.objects.filter(pk=ann.offer_booking_id).update(hold_expires_at=timezone.now())
    booking_expire_holds()
    response = client.get(links.entry_path(ann, "waitlist_accept"))
    body = response.content.decode()
    assert "This offer has expired" in body and 'data-testid="join-again"' in body
    assert client.post(links.entry_path(ann, "waitlist_accept")).status_code == 409


def test_accepting_an_online_paid_offer_goes_to_the_checkout(client, db):
    provider = one_slot_a_day_provider(price="80.00", currency="EUR", payment_mode="online")
    start = day_ahead()
    dans = book(provider, DAN, start)
    [ann] = offered(provider, start, dans, ANN)
    response = client.post(links.entry_path(ann, "waitlist_accept"))
    booking = Booking.objects.get(pk=ann.offer_booking_id)
    assert response["Location"] == f"/booked/{booking.reference}/checkout/"
    assert booking.status == BookingStatus.PENDING
    checkout = client.get(response["Location"])
    assert checkout.status_code == 200 and booking.reference in checkout.content.decode()


def test_joining_for_the_day_the_clocks_go_forward_waits_its_real_23_hours(client, full_day):
    provider, _start, _ = full_day
    berlin = ZoneInfo("Europe/Berlin")
    spring_forward = date(2027, 3, 28)  # 02:00 becomes 03:00 in Berlin

    client.post(f"/s/{service_of(provider).slug}/waitlist/", join_form(spring_forward, timezone="Europe/Berlin"))

    entry = WaitlistEntry.objects.get()
    assert entry.window_start == datetime.combine(spring_forward, time(0), tzinfo=berlin)
    assert entry.window_end - entry.window_start == timedelta(hours=23)
