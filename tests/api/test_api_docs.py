"""docs/api.md cannot rot: every `sh` block runs, in order, against a live server."""

import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from tests.api.conftest import provider_staff_group
from tests.factories import ServiceFactory, UserFactory
from tests.scheduling.conftest import future_slot, open_all_day_provider

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCK = re.compile(r"<!-- expect (\d{3})(?:, save id as (\w+))? -->\s*```sh\n(.*?)```", re.S)

pytestmark = pytest.mark.django_db(transaction=True)


def documented_calls() -> list[tuple[int, str | None, str]]:
    return [(int(status), name, script) for status, name, script in BLOCK.findall(DOC.read_text())]


def test_the_documentation_shows_book_conflict_reschedule_and_cancel():
    scripts = " ".join(script for _, _, script in documented_calls())
    for fragment in ("/bookings/", "/reschedule/", "/cancel/", "Idempotency-Key", "/waitlist/"):
        assert fragment in scripts
    assert [status for status, _, _ in documented_calls()] == [200, 201, 200, 201, 409, 201, 409, 200, 409, 201, 409]


def test_the_first_example_defines_every_variable_it_uses():
    """Run alone, in a shell where nothing is exported and an unset variable is an error, the first
    call still makes a complete request (curl stands in for itself by printing its arguments)."""
    _, _, first = documented_calls()[0]
    script = "curl() { printf '%s\\n' \"$@\"; }\n" + first
    result = subprocess.run(["bash", "-u", "-c", script], env={"PATH": os.environ["PATH"]},
                            capture_output=True, text=True, timeout=10)  # fmt: skip
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        r"http://127\.0\.0\.1:8000/api/v1/providers/1/slots/\?start=(\d{4}-\d\d-\d\d)&end=\1&tz=\S+", url
    )


def test_the_documentation_books_a_service_with_any_available_provider():
    calls = documented_calls()
    by_service = [script for _, _, script in calls if '{"service": $SERVICE' in script]
    assert len(by_service) == 1 and '"provider"' not in by_service[0]
    assert any("/services/$SERVICE/slots/" in script for _, _, script in calls)


def test_every_documented_curl_call_answers_as_documented(live_server):
    assert shutil.which("curl"), "curl is needed to run the documented calls"
    user = UserFactory(username="docs")
    user.groups.add(provider_staff_group())
    # Two providers of the user's offer one service, and nothing else (so booking by provider alone
    # works): START booked by provider leaves the second free for the "any available" call.
    provider = open_all_day_provider(slug="docs", with_service=False)
    provider.staff.add(user)
    second = open_all_day_provider(slug="docs-second", with_service=False)
    second.staff.add(user)
    service = ServiceFactory(slug="docs-service", providers=[provider, second])
    start = future_slot(days=3, hour=10)
    env = {
        **os.environ,
        "BASE": live_server.url,
        "TOKEN": Token.objects.create(user=user).key,
        "PROVIDER": str(provider.pk),
        "SERVICE": str(service.pk),
        "DAY": start.date().isoformat(),
        "START": start.isoformat().replace("+00:00", "Z"),
        "LATER": (start + timedelta(hours=3)).isoformat().replace("+00:00", "Z"),
    }
    for expected, save_as, script in documented_calls():
        script = script.replace("curl -sS", 'curl -sS -o "$BODY" -w "%{http_code}"', 1)
        body_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"api-doc-{os.getpid()}.json"
        result = subprocess.run(["bash", "-c", script], env={**env, "BODY": str(body_file)},
                                capture_output=True, text=True, timeout=30)  # fmt: skip
        body = json.loads(body_file.read_text() or "null")
        assert (result.returncode, result.stdout) == (0, str(expected)), (script, result.stderr, body)
        if save_as:
            env[save_as] = str(body["id"])
