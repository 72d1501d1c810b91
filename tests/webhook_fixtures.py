"""A real local HTTP receiver for webhook deliveries (a plugin of tests/conftest.py, for the webhook
service, API and console tests)."""

import pytest

from tests.notifications.webhook_receiver import Receiver, start_receiver


@pytest.fixture
def receiver(settings):
    """A real local HTTP receiver; private (loopback) webhook URLs allowed for it."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    receiver = Receiver()
    server = start_receiver(receiver)
    yield receiver
    receiver.release.set()
    server.shutdown()
    server.server_close()
