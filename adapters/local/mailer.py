"""Local mail: one log line per message, and the whole message as an .eml file in a folder."""

import asyncio
import logging
import os
import secrets
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from adapters.mail.headers import parse_sender, recipient, subject_line
from application.ports.clock import Clock
from application.ports.messaging import Email
from domain.shared.clock import utcnow

logger = logging.getLogger(__name__)

DEFAULT_SENDER = "Atelier <no-reply@atelier.localhost>"


class MailboxMailer:
    """Mailer for the embedded default: `<data-dir>/mailbox/<time>-<random>.eml` (RFC 5322)."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        sender: str = DEFAULT_SENDER,
        clock: Clock = utcnow,
    ) -> None:
        self._directory, self._sender, self._clock = Path(directory), parse_sender(sender), clock

    @property
    def directory(self) -> Path:
        return self._directory

    async def send(self, email: Email) -> None:
        now = self._clock()
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = recipient(email.to)
        message["Subject"] = subject_line(email.subject)
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain="atelier.localhost")
        message.set_content(email.body)
        path = await asyncio.to_thread(self._write, now, message.as_bytes())
        logger.info("mail to %s: %s (%s)", email.to, email.subject, path)

    def _write(self, now: datetime, content: bytes) -> Path:
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Names sort by sending time; the random tail keeps two mails in one microsecond apart.
        name = f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.eml"
        path = self._directory / name
        temporary = self._directory / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
        return path
