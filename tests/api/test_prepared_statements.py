"""Statements are prepared (settings: server-side binding). A migration that adds a column while the
app runs must not break the hot path's raw SELECTs, as a prepared `SELECT *` would."""

import psycopg
import pytest
from django.db import connection

from tests.api.conftest import client_for
from tests.api.test_bookings_api import URL, booking_body
from tests.factories import UserFactory
from tests.scheduling.conftest import future_slot, open_all_day_provider

TABLES = ("scheduling_customer", "auth_user", "scheduling_provider")


def other_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"] or None,
        host=settings["HOST"], port=settings["PORT"], autocommit=True,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_bookings_keep_working_after_a_column_is_added_under_prepared_statements():
    assert connection.settings_dict["OPTIONS"].get("server_side_binding")
    provider = open_all_day_provider(slug="prepared")
    client = client_for(UserFactory(username="prepared", is_superuser=True))

    def book(n: int, email: str) -> int:
        body = booking_body(provider, future_slot(days=3, hour=8 + n), customer={"name": "P", "email": email})
        return client.post(URL, body, format="json").status_code

    # Enough runs for every statement on the path to be prepared (threshold 2), returning customer included.
    assert [book(n, "same@example.com") for n in range(4)] == [201] * 4
    with other_connection() as ddl:
        try:
            for table in TABLES:
                ddl.execute(f"ALTER TABLE {table} ADD COLUMN added_by_a_migration integer")
            assert book(5, "same@example.com") == 201
            assert book(6, "new@example.com") == 201
        finally:
            for table in TABLES:
                ddl.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS added_by_a_migration")
