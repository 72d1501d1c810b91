"""Logging that never writes a customer's private manage token: gunicorn's access log and Django's.

Manage links are `/b/<reference>/<token>/`; anyone who can read the access log could otherwise
cancel or move that booking.
"""

import logging
import re

from gunicorn.glogging import Logger

MANAGE_TOKEN = re.compile(r"(/b/[^/\s?]+/)[^/\s?]+")


def redact(text: str) -> str:
    return MANAGE_TOKEN.sub(r"\1[redacted]", text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms


class RedactManageTokens(logging.Filter):
    """For Django's loggers: "Not Found: /b/<ref>/<token>/" must not carry the token either."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/b/" in message:
            record.msg, record.args = redact(message), ()
        return True
