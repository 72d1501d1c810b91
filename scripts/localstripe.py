"""Run localstripe, the fake Stripe server that `make run` and the tests talk to instead of Stripe.

    .venv/bin/python scripts/localstripe.py [--host 127.0.0.1] [--port 8420] [--verbose]

Serves the Stripe API under /v1/, its fake Stripe.js at /js.stripe.com/v3/, and its configuration
endpoints (POST /_config/webhooks/<id>, DELETE /_config/data). Any `sk_...` key is accepted.

Unlike `python -m localstripe`, it binds only the given host, and keeps its state in memory.
"""

import argparse
import logging
import sys
from pathlib import Path

# This file is itself named localstripe.py, and Python puts its directory first on sys.path: without
# this, `import localstripe` would import this script instead of the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from aiohttp import web  # noqa: E402
from localstripe import resources, server  # noqa: E402


def _in_memory_only() -> None:
    """localstripe pickles its whole store to the fixed path /tmp/localstripe.pickle after every write
    (and its own start() loads it). That makes each write slower as the store grows, and parallel
    instances (tests, `make run`, a CI clone on the same machine) overwrite each other's file. Each of
    our processes is a fresh fake that lives as long as its test session or `make run`, so the state
    stays in memory. This only configures where the fake keeps its state: the API behaves the same.
    """
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--verbose", action="store_true", help="log every request and webhook delivery")
    args = parser.parse_args()

    _in_memory_only()
    # Webhook deliveries are logged on aiohttp.access too (localstripe.webhooks), so --verbose shows both.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    access_log = logging.getLogger("aiohttp.access")
    if args.verbose:
        access_log.setLevel(logging.INFO)

    def listening(*_args: object) -> None:
        print(f"localstripe listening on http://{args.host}:{args.port}", flush=True)

    web.run_app(
        server.app,
        host=args.host,
        port=args.port,
        access_log=access_log if args.verbose else None,
        print=listening,
        handle_signals=True,
    )


if __name__ == "__main__":
    sys.exit(main())
