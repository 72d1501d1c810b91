"""What every channel adapter shares: the message it is given and the errors it may raise."""

from dataclasses import dataclass, field
from typing import Protocol


class SendError(Exception):
    """A send that did not go out. Transient unless a subclass says otherwise."""

    permanent = False


class TransientSendError(SendError):
    """Worth retrying later: a timeout, a refused connection, a 5xx or a 429."""


class PermanentSendError(SendError):
    """Retrying cannot help: an invalid address, a 4xx from the provider, a channel not configured."""

    permanent = True


class ChannelNotConfigured(PermanentSendError):
    """The channel has no backend or misses its credentials. Recorded on the row, never raised further."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message. `subject` is the email subject or the push title; `text` is the plain body
    (the whole SMS); `key` is the ledger's dedup key, passed on to the channel where it has a use
    (email Message-ID, push idempotency key)."""

    channel: str
    to: str
    subject: str
    text: str
    key: str
    html: str = ""
    attachments: tuple[Attachment, ...] = ()
    data: dict = field(default_factory=dict)


class ChannelAdapter(Protocol):
    def send(self, message: OutgoingMessage) -> str:
        """Send one message; return the provider's message id (or ""). Raise SendError on failure."""

    def close(self) -> None:
        """Release connections held across a batch."""
