"""The router's defaults, and where availability reads go without a real replica."""

import pytest
from django.db import DEFAULT_DB_ALIAS

from booking_site.db_router import PrimaryReplicaRouter, replica_for_reads
from scheduling.models import Booking, Provider


def test_without_a_replica_reads_use_the_primary():
    assert replica_for_reads() == DEFAULT_DB_ALIAS


@pytest.mark.parametrize("method", ["db_for_read", "db_for_write"])
def test_a_query_naming_no_alias_goes_to_the_primary(method):
    assert getattr(PrimaryReplicaRouter(), method)(Booking) == DEFAULT_DB_ALIAS


def test_migrations_run_on_the_primary_only():
    router = PrimaryReplicaRouter()
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "scheduling")
    assert not router.allow_migrate("replica", "scheduling")


def test_objects_read_on_either_alias_may_be_related():
    assert PrimaryReplicaRouter().allow_relation(Provider(), Booking())
