"""Mailer backed by Amazon SES (the sender must be a verified identity, as on AWS)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

import aioboto3

from adapters.aws.clients import aws_client
from adapters.mail.headers import parse_sender, recipient, subject_line
from application.ports.messaging import Email


class SesMailer:
    """Sends plain-text mail with SES `send_email`."""

    def __init__(self, client: Any, sender: str, configuration_set: str | None = None) -> None:
        self._client, self._configuration_set = client, configuration_set
        self._sender = str(parse_sender(sender))

    @classmethod
    @asynccontextmanager
    async def create(
        cls,
        session: aioboto3.Session,
        sender: str,
        *,
        region: str,
        endpoint_url: str | None = None,
        configuration_set: str | None = None,
    ) -> AsyncIterator[Self]:
        async with aws_client(session, "ses", region=region, endpoint_url=endpoint_url) as client:
            yield cls(client, sender, configuration_set)

    async def send(self, email: Email) -> None:
        extra = {"ConfigurationSetName": self._configuration_set} if self._configuration_set else {}
        to, subject = recipient(email.to).addr_spec, subject_line(email.subject)
        await self._client.send_email(
            Source=self._sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": email.body, "Charset": "UTF-8"}},
            },
            **extra,
        )
