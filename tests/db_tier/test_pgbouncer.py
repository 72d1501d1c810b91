"""PgBouncer in transaction mode in front of PostgreSQL, with the settings that
docs/decisions/0017-read-replica-and-pooler.md documents. The race, idempotency and dispatcher tests
also run through it (`also_through_pgbouncer`)."""

import psycopg
import pytest
from django.db import connection

from scheduling.models import Provider
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _admin(bouncer) -> psycopg.Connection:
    """PgBouncer's own console (the `pgbouncer` database)."""
    user = connection.settings_dict["USER"]
    return psycopg.connect(host=bouncer["host"], port=bouncer["port"], dbname="pgbouncer", user=user, autocommit=True)


def test_the_default_alias_connects_through_pgbouncer(through_pgbouncer):
    connection.ensure_connection()
    with _admin(through_pgbouncer) as admin:
        clients = admin.execute("SHOW CLIENTS").fetchall()
        columns = [c.name for c in admin.cursor().execute("SHOW CLIENTS").description]
    databases = [dict(zip(columns, row, strict=True))["database"] for row in clients]
    assert connection.settings_dict["NAME"] in databases


def test_a_repeated_statement_runs_on_whichever_server_connection_is_free(through_pgbouncer):
    """What the pooled settings are for: a statement psycopg would prepare on one server connection
    is run later on another one (here because a second client holds the first in a transaction)."""
    provider = ProviderFactory()
    for _ in range(3):  # past DB_PREPARE_THRESHOLD
        assert Provider.objects.filter(pk=provider.pk).exists()
    settings_dict = connection.settings_dict
    holder = psycopg.connect(
        host=settings_dict["HOST"], port=settings_dict["PORT"], dbname=settings_dict["NAME"], user=settings_dict["USER"]
    )
    try:
        holder.execute("SELECT 1")  # PgBouncer hands out the server connection used last: the one above
        for _ in range(3):
            assert Provider.objects.filter(pk=provider.pk).exists()
    finally:
        holder.rollback()
        holder.close()
