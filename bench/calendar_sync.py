"""Time and memory of syncing a large iCal calendar into a provider's busy times.

    BENCH_DB=booking_bench .venv/bin/python bench/calendar_sync.py [--events 5000]

Scenario: one file of `--events` VEVENTs over the next 90 days, served by a local HTTP server: a fifth
of them weekly series (RRULE FREQ=WEEKLY, 13 weeks), the rest one-off events, some all-day, some
transparent. A provider with a 90-day horizon syncs it (`calendar_connection_sync`): the first sync
writes every busy instance; a second sync of the unchanged file must write nothing. Targets: under
5 s and under 200 MB for the first sync. Baseline, in the same run: parsing and expanding the file
alone (`calendars.ical_import.busy_spans`, no database). Memory: the process's maximum resident set
size after the timed sync (Django and all), and tracemalloc's peak of Python allocations during a
second provider's first sync (measured apart: tracemalloc slows the code it watches).
Prints figures; asserts nothing about timing and exits 0.
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time as clock
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _setup import cpu_model, postgres_version, setup_django  # noqa: E402 - bench/ is on the path

ZONE = ZoneInfo("Europe/Berlin")


def calendar_file(events: int, *, now: datetime) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//calendar sync//EN"]
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    for n in range(events):
        day = now + timedelta(days=n % 90, hours=7 + n % 10)
        start = day.replace(minute=(n % 4) * 15, second=0, microsecond=0)
        lines += ["BEGIN:VEVENT", f"UID:bench-{n}@example.com", f"DTSTAMP:{stamp}", f"SUMMARY:Event {n}"]
        if n % 25 == 0:  # all-day
            lines += [f"DTSTART;VALUE=DATE:{start:%Y%m%d}", f"DTEND;VALUE=DATE:{start + timedelta(days=1):%Y%m%d}"]
        else:
            end = start + timedelta(minutes=30 + 15 * (n % 3))
            lines += [f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{end:%Y%m%dT%H%M%SZ}"]
        if n % 5 == 0 and n % 25:
            lines.append("RRULE:FREQ=WEEKLY;COUNT=13")
        if n % 17 == 0:
            lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def serve(body: bytes) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/calendar.ics"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings

    from calendars.ical_import import busy_spans
    from calendars.services import calendar_connection_create, calendar_connection_sync
    from scheduling.models import Provider
    from scheduling.services import service_create

    settings.DEBUG = False
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True  # the bench's own server on 127.0.0.1
    now = datetime.now(UTC)
    body = calendar_file(args.events, now=now)
    server, url = serve(body)
    tag = uuid.uuid4().hex[:8]

    def connection_for(suffix: str):
        provider = Provider.objects.create(
            name=f"Bench calendar {tag}{suffix}", slug=f"bench-calendar-{tag}{suffix}", timezone=ZONE
        )
        service_create(
            providers=[provider], name=f"Bench {tag}{suffix}", slug=f"bench-{tag}{suffix}", max_advance_days=90
        )
        return calendar_connection_create(provider=provider, url=url, name="Bench")

    timed, traced = connection_for("t"), connection_for("m")

    t0 = clock.perf_counter()
    spans = busy_spans(body, zone=ZONE, start=now, end=now + timedelta(days=90))
    parse_seconds = clock.perf_counter() - t0

    # Time first, without tracemalloc (it slows every allocation several times over); memory on a
    # second provider's first sync of the same file.
    t0 = clock.perf_counter()
    first = calendar_connection_sync(connection_id=timed.pk)
    first_seconds = clock.perf_counter() - t0
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t0 = clock.perf_counter()
    again = calendar_connection_sync(connection_id=timed.pk)
    again_seconds = clock.perf_counter() - t0

    tracemalloc.start()
    calendar_connection_sync(connection_id=traced.pk)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    server.shutdown()

    print(f"Machine: {cpu_model()}; PostgreSQL {postgres_version()}")
    print(f"File: {args.events:,} VEVENTs, {len(body) / 1e6:.1f} MB, {len(spans):,} busy instances in 90 days")
    print(f"Baseline, parse and expand alone: {parse_seconds:.2f} s")
    verdict = "met" if first_seconds < 5 and max_rss_mb < 200 else "MISSED"
    print(
        f"First sync: {first_seconds:.2f} s ({first_seconds / parse_seconds:.1f}x the parse), added {first.added:,}, "
        f"error {first.error or 'none'}; Python peak {peak / 1e6:.0f} MB, process max RSS {max_rss_mb:.0f} MB "
        f"(targets < 5 s, < 200 MB: {verdict})"
    )
    wrote = "writes nothing" if again.added == again.removed == 0 else "WROTE ROWS"
    print(
        f"Second sync of the unchanged file: {again_seconds:.2f} s, added {again.added}, removed {again.removed}, "
        f"kept {again.kept:,} ({wrote})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
