"""The waitlist in the console: the line in order, scoped to the staff's providers; "Withdraw" and
"Offer the next free time now" go through waitlist.services; the outbox is a read-only log."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.admin import helpers

from scheduling.services import booking_cancel
from tests.admin.conftest import make_staff, messages_of
from tests.factories import service_of
from tests.waitlist.conftest import ANN, BEN, CAT, DAN, book, day_ahead, join, one_slot_a_day_provider
from waitlist.models import EntryStatus, WaitlistMessage

pytestmark = pytest.mark.django_db
LIST = "/admin/waitlist/waitlistentry/"
waitlist_permissions = importlib.import_module("waitlist.migrations.0003_provider_staff_permissions")


@pytest.fixture
def full(db):
    """A provider whose one slot three days ahead Dan has booked."""
    provider = one_slot_a_day_provider(name="Solo")
    dans = book(provider, DAN, day_ahead())
    return provider, dans


@pytest.fixture
def as_solo_staff(client, staff_group, full):
    waitlist_permissions.grant(django_apps)
    client.force_login(make_staff(staff_group, full[0], username="solo-staff"))
    return client


def act(client, action, *entries):
    return client.post(
        LIST, {"action": action, helpers.ACTION_CHECKBOX_NAME: [e.pk for e in entries], "index": 0}, follow=True
    )


def test_staff_see_their_line_in_order_and_nobody_elses(as_solo_staff, full):
    provider, _dans = full
    ben, cat, ann = (join(provider, who, day_ahead()) for who in (BEN, CAT, ANN))
    join(one_slot_a_day_provider(name="Elsewhere"), DAN, day_ahead())
    response = as_solo_staff.get(LIST)
    assert response.status_code == 200
    shown = [entry.pk for entry in response.context["cl"].result_list]
    assert shown == [ben.pk, cat.pk, ann.pk]
    html = response.content.decode()
    assert "ben@example.com" in html and "dan@example.com" not in html
    assert "(Europe/Berlin)" in html  # the window in the customer's zone, named


def test_another_staffs_entry_page_is_a_404(as_solo_staff):
    entry = join(one_slot_a_day_provider(name="Elsewhere"), ANN, day_ahead())
    assert as_solo_staff.get(f"{LIST}{entry.pk}/change/").status_code == 404


def test_an_entry_page_is_read_only(as_solo_staff, full):
    entry = join(full[0], ANN, day_ahead())
    html = as_solo_staff.get(f"{LIST}{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in html and "ann@example.com" in html


def test_withdraw_takes_an_entry_out_of_the_line(as_solo_staff, full):
    ann, ben = join(full[0], ANN, day_ahead()), join(full[0], BEN, day_ahead())
    response = act(as_solo_staff, "withdraw_selected", ann)
    assert "Withdrew 1 entry: Ann." in messages_of(response)
    ann.refresh_from_db(), ben.refresh_from_db()
    assert (ann.status, ben.status) == (EntryStatus.WITHDRAWN, EntryStatus.WAITING)
    again = act(as_solo_staff, "withdraw_selected", ann)
    assert any("no longer waiting" in m for m in messages_of(again))


def test_offer_next_makes_an_offer_to_the_first_in_line_after_a_cancellation(as_solo_staff, full):
    provider, dans = full
    ann, ben = join(provider, ANN, day_ahead()), join(provider, BEN, day_ahead())
    assert "0 offers made." in messages_of(act(as_solo_staff, "offer_next_free_time", ben))
    booking_cancel(booking_id=dans.pk)  # on_commit never runs in this test: no task made the offer
    response = act(as_solo_staff, "offer_next_free_time", ben)
    assert "1 offer made." in messages_of(response)
    ann.refresh_from_db(), ben.refresh_from_db()
    assert (ann.status, ben.status) == (EntryStatus.OFFERED, EntryStatus.WAITING)
    assert ann.offer_booking.reference in as_solo_staff.get(LIST).content.decode()


def test_the_outbox_is_scoped_and_read_only(as_solo_staff, full):
    mine = join(full[0], ANN, day_ahead())
    join(one_slot_a_day_provider(name="Elsewhere"), BEN, day_ahead())
    response = as_solo_staff.get("/admin/waitlist/waitlistmessage/")
    assert [m.entry_id for m in response.context["cl"].result_list] == [mine.pk]
    message = WaitlistMessage.objects.get(entry=mine)
    html = as_solo_staff.get(f"/admin/waitlist/waitlistmessage/{message.pk}/change/").content.decode()
    assert 'name="_save"' not in html


def test_a_superuser_sees_every_line(as_superuser, full):
    entries = [join(full[0], ANN, day_ahead()), join(one_slot_a_day_provider(name="Other"), CAT, day_ahead())]
    shown = [e.pk for e in as_superuser.get(LIST).context["cl"].result_list]
    assert shown == [e.pk for e in entries]
    assert service_of(full[0]).name in as_superuser.get(LIST).content.decode()
