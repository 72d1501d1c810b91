"""Email through Django's configured email backend (SMTP, anymail, console, file, locmem)."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from notifications.channels.base import OutgoingMessage, PermanentSendError, TransientSendError


class EmailChannel:
    """Keeps one backend connection open for a whole batch; reopens it after a failure.

    SMTP waits at most EMAIL_TIMEOUT (= NOTIFICATIONS_SEND_TIMEOUT_SECONDS) per socket operation.
    """

    def __init__(self) -> None:
        self._connection = None

    def send(self, message: OutgoingMessage) -> str:
        message_id = f"<{message.key.replace(':', '.')}@{_domain()}>"
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            # A stable Message-ID per ledger key: the rare duplicate (see notifications/dispatch.py)
            # is recognisable, and many mail systems fold it into the first copy.
            headers={"Message-ID": message_id, "X-Notification-Key": message.key},
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        for attachment in message.attachments:
            email.attach(attachment.filename, attachment.content, attachment.mimetype)
        try:
            if self._connection is None:
                self._connection = get_connection()
                self._connection.open()  # otherwise SMTP connects and quits for every message
            email.connection = self._connection
            sent = email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentSendError(f"recipient refused: {exc.recipients}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc
        if sent != 1:
            raise TransientSendError("the email backend accepted no message")
        return message_id

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except (smtplib.SMTPException, OSError):
                pass
            self._connection = None


def _domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"
