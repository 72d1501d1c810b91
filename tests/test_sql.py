"""booking_site/sql.py: the one way of writing raw SQL, and nothing else in the code base writes it."""

import re
from pathlib import Path

import pytest

from booking_site.sql import column_list, fetch_rows, fetch_value, raw_first, raw_rows
from scheduling.models import Service
from tests.factories import ServiceFactory

ROOT = Path(__file__).resolve().parent.parent
APPS = ["booking_site", "scheduling", "notifications", "calendars", "waitlist", "payments"]
RAW_SQL = re.compile(r"\.raw\(|\.cursor\(|\.execute\(")


def test_no_raw_statement_is_written_outside_booking_site_sql():
    sources = [path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]
    writers = sorted(
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        if path != ROOT / "booking_site" / "sql.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if RAW_SQL.search(line)
    )

    assert writers == []


@pytest.mark.django_db
def test_fetch_value_returns_the_first_column_of_the_first_row():
    assert fetch_value("SELECT %s::int + 1, 'ignored'", [41]) == 42


@pytest.mark.django_db
def test_fetch_value_returns_none_when_no_row_comes_back():
    assert fetch_value("SELECT 1 WHERE false") is None


@pytest.mark.django_db
def test_fetch_rows_returns_every_row_as_a_tuple():
    assert fetch_rows("SELECT n, n * 2 FROM generate_series(1, %s) n ORDER BY n", [3]) == [(1, 2), (2, 4), (3, 6)]


@pytest.mark.django_db
def test_raw_rows_returns_model_rows_with_the_extra_columns_as_attributes():
    first, second = ServiceFactory(), ServiceFactory()
    sql = f"SELECT {column_list(Service, 's')}, s.id * 10 AS tenfold FROM {Service._meta.db_table} s ORDER BY s.id"

    rows = raw_rows(Service, sql, [])

    assert [(row.pk, row.tenfold) for row in rows] == [(first.pk, first.pk * 10), (second.pk, second.pk * 10)]


@pytest.mark.django_db
def test_raw_first_returns_none_when_no_row_matches():
    sql = f"SELECT {column_list(Service, 's')} FROM {Service._meta.db_table} s WHERE s.id = %s"

    assert raw_first(Service, sql, [-1]) is None
