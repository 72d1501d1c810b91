"""localstripe, the fake Stripe server, for every test that pays (a plugin of tests/conftest.py).

`localstripe_server` runs one per test session (scripts/localstripe.py, state in memory, a free port);
`stripe_local` points the settings at it for one test and hands out card tokens and webhook
registrations. localstripe cannot forget a webhook: every event goes to every URL ever registered in
the session, and deliveries to a finished test's dead URL just fail (localstripe logs and goes on).
"""

import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

LAUNCHER = Path(__file__).resolve().parents[1] / "scripts" / "localstripe.py"
START_TIMEOUT_SECONDS = 20
PUBLISHABLE_KEY = "pk_test_localstripe"
SECRET_KEY = "sk_test_localstripe"


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick for port 0); it may be taken again later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_form(url: str, fields: dict[str, str]) -> bytes:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(url, data=data, timeout=10) as response:
        return response.read()


def _answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/js.stripe.com/v3/", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory) -> Iterator[str]:
    """The base URL (http://127.0.0.1:<port>) of a localstripe of this session's own."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # A file, not a pipe: nobody reads the output while the tests run, and a full pipe would block it.
    output = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"localstripe did not answer on {base_url} within {START_TIMEOUT_SECONDS}s "
                    f"(exit code {process.poll()}):\n{output.read_text()}"
                )
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class LocalStripe:
    base_url: str
    webhook_secret: str

    def card_token(self, number: str = "4242424242424242") -> str:
        """A card token (tok_...), as Stripe.js makes on the page with the publishable key."""
        body = post_form(
            f"{self.base_url}/v1/tokens",
            {
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
                "card[cvc]": "123",
                "key": PUBLISHABLE_KEY,
            },
        )
        return json.loads(body)["id"]

    def register_webhook(self, url: str) -> str:
        """Send every event from now on to url, signed with webhook_secret; returns the registration's id.

        The id is new on each call: localstripe has no way to remove a registration, and reusing an id
        would take events away from another test's receiver.
        """
        webhook_id = f"test-{secrets.token_hex(8)}"
        post_form(f"{self.base_url}/_config/webhooks/{webhook_id}", {"url": url, "secret": self.webhook_secret})
        return webhook_id


@pytest.fixture
def stripe_local(settings, localstripe_server) -> LocalStripe:
    """The Stripe settings pointed at the session's localstripe, with a webhook secret of this test's own."""
    webhook_secret = f"whsec_test_{secrets.token_hex(12)}"
    settings.STRIPE_API_BASE = localstripe_server
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = webhook_secret
    settings.STRIPE_JS_URL = f"{localstripe_server}/js.stripe.com/v3/"
    return LocalStripe(base_url=localstripe_server, webhook_secret=webhook_secret)
