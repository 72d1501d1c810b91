"""Which database a query goes to: the primary, or the streaming replica named by DATABASE_REPLICA_URL.

Routing is explicit (docs/decisions/0017-read-replica-and-pooler.md): a read that may be served a little
stale says so with `.using(replica_for_reads())`; everything else, and so every write, lands on the
primary. The router only makes that default hold for code that names no alias.
"""

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"


def replica_for_reads() -> str:
    """The alias an availability read should use: the replica when one is configured, else the primary.

    Inside a transaction the primary: what the transaction has written, or locked, is only there, and a
    read the caller goes on to act on must see it. A test mirror (settings' TEST MIRROR) is the primary
    under another name, so its reads stay on the primary's connection (the one the test's transaction
    and its allowed databases cover).
    """
    if REPLICA not in connections.settings:
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    if connections.settings[REPLICA].get("TEST", {}).get("MIRROR"):
        return DEFAULT_DB_ALIAS
    return REPLICA


class PrimaryReplicaRouter:
    """Every query that names no alias, read or write, and every migration go to the primary."""

    def db_for_read(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # The replica is a copy of the same database: an object read there may point at one read here.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
