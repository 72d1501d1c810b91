"""The one way of writing raw SQL: every statement the ORM cannot say (or, on the hot path, was kept
raw for speed) goes through these helpers, and nothing else opens a cursor or calls `.raw()`.

A call site says in a one-line comment why the ORM cannot say its statement. A raw SELECT of model
rows names its columns (`column_list`), never `*`.
"""

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model

M = TypeVar("M", bound=Model)


def column_list(model: type[Model], alias: str, *, using: str = "default") -> str:
    """`alias."col", ...` for every concrete field of `model`: what a raw SELECT names instead of `*`.

    Statements are prepared (settings: server-side binding), and PostgreSQL refuses to run a
    prepared `SELECT *` once a migration has added a column ("cached plan must not change result
    type") until the connection closes; a named list keeps its result type.
    """
    quote = connections[using].ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def raw_first(model: type[M], sql: str, params, *, using: str = "default") -> M | None:
    """The first `model` row a raw SELECT returns (its columns by `column_list`), or None."""
    return next(iter(model.objects.db_manager(using).raw(sql, params)), None)


def raw_rows(model: type[M], sql: str, params, *, using: str = "default") -> list[M]:
    """Every `model` row a raw SELECT returns (its columns by `column_list`), extra columns as attributes."""
    return list(model.objects.db_manager(using).raw(sql, params))


def fetch_value(sql: str, params: Sequence | dict | None = None, *, using: str = "default") -> Any:
    """The first column of the first row a statement returns, or None when it returns no row."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def fetch_rows(sql: str, params: Sequence | dict | None = None, *, using: str = "default") -> list[tuple]:
    """Every row a statement returns, as tuples in the order of its SELECT list."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def insert_skipping_conflicts(objs: Sequence[M], *, key: str, using: str = "default") -> list[M]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING pk for `objs` (one model), in one statement.

    Returns the objects that were written, with their primary keys set. The others broke a unique
    constraint (their `key`, a unique field, is already taken) and wrote nothing. Django's
    `bulk_create(ignore_conflicts=True)` writes the same rows but sets no primary keys, so telling
    the two apart costs a second query; a savepoint around a plain INSERT costs two more statements.
    """
    if not objs:
        return []
    connection = connections[using]
    meta = objs[0]._meta
    key_field = meta.get_field(key)
    quote = connection.ops.quote_name
    sql, params = _insert_sql(objs, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {quote(meta.pk.column)}, {quote(key_field.column)}", params)
        written = {value: pk for pk, value in cursor.fetchall()}
    inserted = []
    for obj in objs:
        pk = written.get(key_field.get_db_prep_save(getattr(obj, key_field.attname), connection))
        if pk is not None:
            obj.pk = pk
            obj._state.adding, obj._state.db = False, using
            inserted.append(obj)
    return inserted


def insert_ignoring_conflicts(objs: Sequence[Model], *, using: str = "default") -> int:
    """INSERT ... ON CONFLICT DO NOTHING for `objs` (one model) when nobody needs their keys: what
    `bulk_create(ignore_conflicts=True)` does, at a third of its CPU. Returns how many were written."""
    if not objs:
        return 0
    connection = connections[using]
    sql, params = _insert_sql(objs, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _insert_sql(objs: Sequence[Model], connection) -> tuple[str, list]:
    meta = objs[0]._meta
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    params, rows = [], []
    for obj in objs:
        params += [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields]
        rows.append(f"({', '.join(['%s'] * len(fields))})")
    columns = ", ".join(quote(field.column) for field in fields)
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join(rows)} ON CONFLICT DO NOTHING", params
