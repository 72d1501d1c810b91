"""The schema writes no index it does not need: on the apps' own tables, no index is a leading part of
another (each write of a row updates every index on it). Django gives every foreign key an index of its
own; where a composite index or unique constraint already leads with the column, the field says
`db_index=False`."""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

OUR_APPS = ("scheduling", "notifications", "payments", "calendars", "waitlist")

# Full (no WHERE), plain-column btree indexes whose columns and operator classes begin another's.
REDUNDANT_INDEXES_SQL = """
    WITH idx AS (
        SELECT i.indrelid::regclass::text AS tbl, i.indexrelid::regclass::text AS name,
               i.indkey::text AS cols, i.indclass::text AS ops, i.indisunique AS is_unique
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_am am ON am.oid = c.relam
         WHERE am.amname = 'btree' AND i.indpred IS NULL AND i.indexprs IS NULL
           AND i.indrelid::regclass::text = ANY(%s)
    )
    SELECT a.tbl, a.name, b.name
      FROM idx a JOIN idx b ON a.tbl = b.tbl AND a.name <> b.name
     WHERE NOT a.is_unique AND length(a.cols) < length(b.cols)
       AND starts_with(b.cols || ' ', a.cols || ' ') AND starts_with(b.ops || ' ', a.ops || ' ')
     ORDER BY 1, 2
"""


def our_tables() -> list[str]:
    # Django's own many-to-many tables (auto-created) keep the indexes Django gives them.
    return [
        model._meta.db_table
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if not model._meta.auto_created
    ]


def test_no_index_of_our_tables_is_the_leading_part_of_another():
    with connection.cursor() as cursor:
        cursor.execute(REDUNDANT_INDEXES_SQL, [our_tables()])
        redundant = cursor.fetchall()

    assert redundant == []
