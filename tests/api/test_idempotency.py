from datetime import timedelta

import pytest
from django.utils import timezone

from scheduling import manage_links
from scheduling.models import Booking, IdempotencyRecord
from tests.api.conftest import client_for
from tests.api.test_bookings_api import URL, booking_body
from tests.concurrency import run_concurrently
from tests.scheduling.conftest import future_slot, open_all_day_provider

# Also through PgBouncer in transaction mode (tests/db_tier_fixtures.py).
pytestmark = pytest.mark.also_through_pgbouncer


@pytest.mark.django_db
def test_the_same_key_twice_gives_one_booking_and_identical_responses(as_a, provider_a):
    body = booking_body(provider_a, future_slot())
    first = as_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = as_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert_same_answer(first.json(), second.json())
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_a_422(as_a, provider_a):
    as_a.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = as_a.post(URL, booking_body(provider_a, future_slot(hour=11)), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_a_conflict_is_replayed_too(as_a, provider_a):
    start = future_slot()
    as_a.post(URL, booking_body(provider_a, start), format="json")
    other = booking_body(provider_a, start, customer={"name": "B", "email": "b@example.com"})
    first = as_a.post(URL, other, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    second = as_a.post(URL, other, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert first.status_code == second.status_code == 409
    assert first.json() == second.json()


@pytest.mark.django_db
def test_invalid_input_is_not_stored_so_a_corrected_retry_can_use_the_key(as_a, provider_a):
    assert as_a.post(URL, {"provider": provider_a.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k-4").status_code == 400
    fixed = as_a.post(URL, booking_body(provider_a, future_slot()), format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert fixed.status_code == 201


@pytest.mark.django_db
def test_keys_are_per_client(as_a, provider_a, staff_b):
    provider_a.staff.add(staff_b)
    as_b = client_for(staff_b)
    as_a.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    other = as_b.post(URL, booking_body(provider_a, future_slot(hour=10)), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert other.status_code == 201
    assert Booking.objects.count() == 2


@pytest.mark.django_db
def test_a_key_older_than_24_hours_starts_afresh(as_a, provider_a):
    body = booking_body(provider_a, future_slot(hour=9))
    as_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    later = booking_body(provider_a, future_slot(hour=12))
    again = as_a.post(URL, later, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 201
    assert Booking.objects.count() == 2
    # The expired record was taken over: the key now replays the new booking and refuses the old body.
    assert IdempotencyRecord.objects.count() == 1
    replayed, new = as_a.post(URL, later, format="json", HTTP_IDEMPOTENCY_KEY="old").json(), again.json()
    assert opens(replayed.pop("manage_url")) == opens(new.pop("manage_url"))
    assert replayed == new
    assert as_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="old").status_code == 422


@pytest.mark.django_db
def test_the_purge_deletes_only_records_older_than_24_hours(as_a, provider_a):
    from scheduling.services import idempotency_records_purge

    for n, hour in enumerate((9, 10, 11)):
        as_a.post(URL, booking_body(provider_a, future_slot(hour=hour)), format="json", HTTP_IDEMPOTENCY_KEY=f"p-{n}")
    now = timezone.now()
    IdempotencyRecord.objects.filter(key__in=["p-0", "p-1"]).update(created_at=now - timedelta(hours=24, seconds=1))
    assert idempotency_records_purge(now=now, batch_size=1) == 2
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["p-2"]
    assert Booking.objects.count() == 3  # the bookings themselves stay


@pytest.mark.django_db
@pytest.mark.also_through_pgbouncer(False)  # reads the migrations' rows, which a transactional test's flush drops
def test_the_purge_is_registered_with_beat_every_hour():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="scheduling.tasks.purge_idempotency_records")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (1, "hours")


@pytest.mark.django_db
def test_an_overlong_key_is_a_400(as_a, provider_a):
    response = as_a.post(URL, booking_body(provider_a, future_slot()), format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_concurrent_requests_with_the_same_key_create_one_booking(staff_a):
    provider = open_all_day_provider(slug="idem-race")
    provider.staff.add(staff_a)
    body = booking_body(provider, future_slot())

    def post():
        response = client_for(staff_a).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="race-key")
        return response.status_code, response.json()

    results = run_concurrently([post for _ in range(10)])
    assert [r for r in results if isinstance(r, Exception)] == []
    assert {status for status, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_a_record_purged_between_the_insert_and_the_read_is_inserted_again(as_a, provider_a, monkeypatch):
    from scheduling.api import idempotency
    from scheduling.services import idempotency_records_purge

    body = booking_body(provider_a, future_slot(hour=9))
    as_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="gone")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    real_insert, calls = idempotency.insert_skipping_conflicts, []

    def purge_right_after_the_first_insert(objs, **kwargs):
        written = real_insert(objs, **kwargs)
        if not calls:
            idempotency_records_purge()  # the hourly task, landing between the insert and the read
        calls.append(written)
        return written

    monkeypatch.setattr(idempotency, "insert_skipping_conflicts", purge_right_after_the_first_insert)
    again = as_a.post(URL, booking_body(provider_a, future_slot(hour=12)), format="json", HTTP_IDEMPOTENCY_KEY="gone")
    assert again.status_code == 201
    assert [bool(written) for written in calls] == [False, True]
    assert IdempotencyRecord.objects.get().status_code == 201


@pytest.mark.django_db
def test_a_reschedule_retried_with_the_same_key_moves_once_and_replays_the_answer(as_a, provider_a):
    old = as_a.post(URL, booking_body(provider_a, future_slot(hour=9)), format="json").json()
    move = {"start": future_slot(hour=14).isoformat()}
    first = as_a.post(f"{URL}{old['id']}/reschedule/", move, format="json", HTTP_IDEMPOTENCY_KEY="move-1")
    second = as_a.post(f"{URL}{old['id']}/reschedule/", move, format="json", HTTP_IDEMPOTENCY_KEY="move-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert_same_answer(first.json(), second.json())
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 2


@pytest.mark.django_db
def test_a_replayed_creation_shows_the_manage_url_which_the_record_does_not_keep(as_a, provider_a):
    body = booking_body(provider_a, future_slot())
    first = as_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-link").json()
    second = as_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-link").json()
    # Made again for the replay: the same booking and secret version (the signature's timestamp may differ).
    assert opens(second["manage_url"]) == opens(first["manage_url"])
    stored = IdempotencyRecord.objects.get(key="k-link").response_body
    assert "manage_url" not in stored
    assert first["manage_url"].rsplit("/", 2)[-2] not in str(stored)  # nor its token anywhere


def opens(manage_url: str) -> tuple[int, int] | None:
    """What a manage link opens: (booking id, secret version)."""
    return manage_links.unsign(manage_url.rsplit("/", 2)[-2])


def assert_same_answer(first: dict, replayed: dict) -> None:
    """A replay answers what the first call did; its manage link is made again (never stored), so it is
    compared by what it opens, not by its signature's timestamp."""
    first, replayed = dict(first), dict(replayed)
    assert opens(replayed.pop("manage_url")) == opens(first.pop("manage_url"))
    assert replayed == first
