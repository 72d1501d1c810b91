"""Channel adapters: email, sms, push. Each turns an OutgoingMessage into one send or a SendError."""

from notifications.channels.base import (
    Attachment,
    ChannelAdapter,
    ChannelNotConfigured,
    OutgoingMessage,
    PermanentSendError,
    SendError,
    TransientSendError,
)
from notifications.channels.email import EmailChannel
from notifications.channels.push import PushChannel, push_configured
from notifications.channels.sms import SmsChannel, sms_configured

ADAPTERS = {"email": EmailChannel, "sms": SmsChannel, "push": PushChannel}


class Senders:
    """The adapters of one batch, made on first use and closed together (an SMTP connection is reused
    across the batch)."""

    def __init__(self) -> None:
        self._open: dict[str, ChannelAdapter] = {}

    def send(self, message: OutgoingMessage) -> str:
        adapter = self._open.get(message.channel)
        if adapter is None:
            factory = ADAPTERS.get(message.channel)
            if factory is None:
                raise ChannelNotConfigured(f"No adapter for channel {message.channel!r}.")
            adapter = self._open[message.channel] = factory()
        return adapter.send(message)

    def close(self) -> None:
        for adapter in self._open.values():
            adapter.close()
        self._open.clear()

    def __enter__(self) -> "Senders":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = [
    "Attachment",
    "ChannelNotConfigured",
    "OutgoingMessage",
    "PermanentSendError",
    "SendError",
    "Senders",
    "TransientSendError",
    "push_configured",
    "sms_configured",
]
