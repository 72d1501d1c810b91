"""A webhook dispatcher process killed with SIGKILL in the middle of a send: nothing is lost, and the
receiver sees the delivery in flight again with the same webhook-id once the claim's lease runs out."""

import json
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from notifications.models import WebhookDelivery
from notifications.webhooks import webhook_endpoint_create
from scheduling.services import CustomerData, booking_create
from tests.factories import UserFactory
from tests.notifications.conftest import ROOT, subprocess_env
from tests.scheduling.conftest import future_slot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ADA = CustomerData(name="Ada", email="ada@example.com", timezone="Europe/London")


def dispatcher(env) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "dispatch_notifications", "--what", "webhooks", "--batch-size", "10"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def totals(process) -> dict:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])["webhooks"]


def db_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def test_a_dispatcher_killed_mid_send_loses_nothing_and_resends_the_same_webhook_id(provider, receiver, tmp_path):
    owner = UserFactory(is_superuser=True, is_staff=True)
    webhook_endpoint_create(owner=owner, url=receiver.url)
    for day in (3, 4, 5):
        booking_create(provider_id=provider.pk, start=future_slot(days=day), customer=ADA)
    env = subprocess_env(
        tmp_path,
        WEBHOOK_ALLOW_PRIVATE_URLS="1",
        WEBHOOK_TIMEOUT_SECONDS="3",
        NOTIFICATIONS_CLAIM_LEASE_SECONDS="8",
        NOTIFICATIONS_SEND_TIMEOUT_SECONDS="3",
    )
    receiver.hold = {2}

    doomed = dispatcher(env)
    assert receiver.wait_for(2), "the dispatcher never reached its 2nd send"
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    receiver.release.set()
    in_flight = receiver.ids()[1]

    leased = WebhookDelivery.objects.filter(status="pending", claimed_at__isnull=False)
    assert in_flight in set(leased.values_list("webhook_id", flat=True))
    lease_ends = max(leased.values_list("next_attempt_at", flat=True))
    deadline = time.monotonic() + 20
    while db_now() < lease_ends and time.monotonic() < deadline:
        time.sleep(0.1)

    assert totals(dispatcher(env))["sent"] == 2  # the one in flight and the one never sent
    ids = receiver.ids()
    assert sorted(set(ids)) == sorted(WebhookDelivery.objects.values_list("webhook_id", flat=True))  # none lost
    assert ids.count(in_flight) == 2  # the same delivery again, under the same webhook-id
    assert len(ids) == 4
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"sent"}
