from adapters.mail.headers import recipient, subject_line
from application.ports.messaging import Email


class InMemoryMailer:
    """Mailer that keeps every message, for tests to read."""

    def __init__(self) -> None:
        self.sent: list[Email] = []

    async def send(self, email: Email) -> None:
        recipient(email.to)  # what the real mailers refuse, this one refuses too
        subject_line(email.subject)
        self.sent.append(email)

    def last_to(self, address: str) -> Email | None:
        """The latest message sent to `address`, if any."""
        for email in reversed(self.sent):
            if email.to == address:
                return email
        return None
