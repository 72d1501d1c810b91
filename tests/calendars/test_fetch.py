"""Fetching an iCal URL: addresses refused after DNS resolution, conditional GET, pinned connection."""

import pytest

from calendars.fetch import CalendarFetchError, fetch_calendar


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/calendar.ics",
        "http://localhost/calendar.ics",  # a name, refused for what it resolves to
        "http://10.0.0.1/calendar.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/calendar.ics",
        "https://[::ffff:10.0.0.1]/calendar.ics",
        "http://0.0.0.0/calendar.ics",
        "http://100.100.100.200/latest/meta-data/",  # shared address space: a cloud's metadata service
        "http://[2002:7f00:1::1]/calendar.ics",  # 6to4 of 127.0.0.1
        "http://192.0.2.10/calendar.ics",  # documentation range
    ],
)
def test_private_addresses_are_refused(settings, url):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = False

    with pytest.raises(CalendarFetchError, match="private or reserved"):
        fetch_calendar(url)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_pass_the_guard(settings, address):
    from calendars.fetch import resolve_public_address

    settings.CALENDAR_ALLOW_PRIVATE_URLS = False

    assert resolve_public_address(address, 80) == address


def test_private_addresses_are_allowed_when_the_setting_is_on(calendar_server):
    calendar_server.body = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"

    assert fetch_calendar(calendar_server.url).body == calendar_server.body


def test_the_local_server_is_refused_without_the_setting(calendar_server, settings):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = False

    with pytest.raises(CalendarFetchError, match="private or reserved"):
        fetch_calendar(calendar_server.url)
    assert calendar_server.requests == []


def test_only_http_and_https(settings):
    with pytest.raises(CalendarFetchError, match="http"):
        fetch_calendar("ftp://example.com/calendar.ics")


def test_the_host_header_carries_the_name_while_the_checked_address_is_connected(calendar_server):
    calendar_server.body = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    url = calendar_server.url.replace("127.0.0.1", "localhost")

    fetch_calendar(url)

    assert calendar_server.requests[-1]["Host"] == url.split("/")[2]


def test_conditional_get_answers_not_modified(calendar_server):
    calendar_server.body = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    calendar_server.etag = '"abc"'

    first = fetch_calendar(calendar_server.url)
    second = fetch_calendar(calendar_server.url, etag=first.etag)

    assert first.etag == '"abc"'
    assert second.status == "not_modified"
    assert calendar_server.requests[-1]["If-None-Match"] == '"abc"'


def test_a_name_with_several_addresses_is_fetched_from_the_first_that_answers(calendar_server, monkeypatch):
    """A host's first address may be unreachable (an IPv6 address on an IPv4-only network, a dead
    node): the next checked address is tried. DNS is outside this machine, so the answer is stubbed:
    calendar.invalid has a dead address (127.0.0.2, where nothing listens) before the live one."""
    import socket

    calendar_server.body = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    port = int(calendar_server.url.split(":")[2].split("/")[0])
    real_getaddrinfo = socket.getaddrinfo

    def two_addresses(host, *args, **kwargs):
        if host != "calendar.invalid":
            return real_getaddrinfo(host, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    url = calendar_server.url.replace("127.0.0.1", "calendar.invalid")

    assert fetch_calendar(url).body == calendar_server.body
    assert calendar_server.requests[-1]["Host"] == url.split("/")[2]
