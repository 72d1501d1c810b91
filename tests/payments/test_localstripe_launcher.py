"""scripts/localstripe.py: the fake Stripe keeps its state in its own memory."""

from pathlib import Path

import stripe

from tests.stripe_fixtures import SECRET_KEY

UPSTREAM_STATE_FILE = Path("/tmp/localstripe.pickle")


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        return path.stat().st_mtime_ns, path.stat().st_size
    except FileNotFoundError:
        return None


def test_writes_do_not_touch_the_state_file_every_localstripe_shares(stripe_local):
    """Upstream pickles the whole store to one fixed file before answering each write: slower with
    every object, and every test run and `make run` on the machine overwriting one another's copy.
    (Only an upstream `python -m localstripe` running at the same moment could make this fail wrongly.)"""
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": stripe_local.base_url})
    before = _stat(UPSTREAM_STATE_FILE)

    client.v1.customers.create({})

    assert _stat(UPSTREAM_STATE_FILE) == before
