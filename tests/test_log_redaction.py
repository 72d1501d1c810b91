from booking_site.log_redaction import redact


def test_manage_tokens_are_redacted_from_access_log_lines():
    line = "GET /b/AB12CD34EF/s3cr3t-T0ken_value/ HTTP/1.1"
    assert redact(line) == "GET /b/AB12CD34EF/[redacted]/ HTTP/1.1"


def test_other_paths_are_logged_unchanged():
    line = "GET /p/dentist/book/?start=2027-03-15T13:00:00Z HTTP/1.1"
    assert redact(line) == line


def test_djangos_not_found_warning_does_not_log_the_token(client, caplog, db):
    import logging

    from booking_site.log_redaction import RedactManageTokens

    handler_filter = RedactManageTokens()
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/b/ABCDEF1234/very-secret-token/")
    assert "very-secret-token" not in caplog.text
    assert "/b/ABCDEF1234/[redacted]/" in caplog.text


def test_the_console_log_handler_uses_the_redacting_filter(settings):
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["redact_manage_tokens"]
    assert settings.LOGGING["filters"]["redact_manage_tokens"]["()"].endswith("RedactManageTokens")


def test_signed_manage_links_are_redacted_whole():
    from django.core import signing

    token = signing.dumps([12345, 3], salt="scheduling.manage-link")
    line = f"GET /b/AB12CD34EF/{token}/calendar.ics HTTP/1.1"
    assert redact(line) == "GET /b/AB12CD34EF/[redacted]/calendar.ics HTTP/1.1"
    assert token.split(":")[-1] not in redact(line)
