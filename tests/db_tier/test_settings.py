"""The database tier's settings come from the environment (README "Scaling")."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRINT_DATABASES = """
import json
from django.conf import settings
from booking_site.db_router import replica_for_reads
databases = {
    alias: {"HOST": db["HOST"], "PORT": db["PORT"], "OPTIONS": db.get("OPTIONS", {}),
            "CURSORS": db.get("DISABLE_SERVER_SIDE_CURSORS"), "MIRROR": db.get("TEST", {}).get("MIRROR")}
    for alias, db in settings.DATABASES.items()
}
print(json.dumps({"read_from": replica_for_reads(), "databases": databases}))
"""


def configured(**env: str) -> dict:
    """{"databases": each alias's settings, "read_from": what `replica_for_reads()` answers}."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_REPLICA", "DB_"))}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PRINT_DATABASES}"],
        cwd=ROOT, env={**base, "DJANGO_SETTINGS_MODULE": "booking_site.settings", **env},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_without_a_replica_url_there_is_only_the_primary():
    assert list(configured()["databases"]) == ["default"]
    assert configured()["read_from"] == "default"


def test_a_replica_url_adds_the_replica_alias_that_availability_reads_use():
    result = configured(DATABASE_REPLICA_URL="postgres://postgres@10.0.0.2:5433/booking")
    replica = result["databases"]["replica"]
    assert (replica["HOST"], replica["PORT"], replica["MIRROR"]) == ("10.0.0.2", 5433, None)
    assert replica["OPTIONS"]["server_side_binding"] is True
    assert result["read_from"] == "replica"


def test_behind_a_transaction_pooler_there_are_no_server_side_cursors():
    assert configured()["databases"]["default"]["CURSORS"] is False
    assert configured(DB_TRANSACTION_POOLER="1")["databases"]["default"]["CURSORS"] is True


def test_a_prepare_threshold_of_none_binds_on_the_server_but_prepares_nothing():
    options = configured(DB_PREPARE_THRESHOLD="none")["databases"]["default"]["OPTIONS"]
    assert (options["server_side_binding"], options["prepare_threshold"]) == (True, None)
