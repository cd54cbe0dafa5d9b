"""Mailers: the local mailbox folder (.eml files) and SES on the moto server."""

import logging
import stat
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from adapters.aws.ses_mailer import SesMailer
from adapters.local.mailer import MailboxMailer
from adapters.memory.mailer import InMemoryMailer
from application.ports.messaging import Email
from tests.fixtures.aws import Aws

MAIL = Email(
    to="ada@example.com",
    subject="Your Atelier confirmation code",
    body="Your Atelier confirmation code is 042917\n\nÇa expire demain.\n",
)


def read_eml(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as file:
        return BytesParser(policy=policy.default).parse(file)


async def test_mailbox_writes_one_parseable_eml_per_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    when = datetime(2025, 5, 4, 3, 2, 1, tzinfo=UTC)
    mailbox = tmp_path / "data" / "mailbox"
    mailer = MailboxMailer(mailbox, sender="Atelier <no-reply@atelier.test>", clock=lambda: when)
    with caplog.at_level(logging.INFO):
        await mailer.send(MAIL)
    [path] = list(mailbox.glob("*.eml"))
    message = read_eml(path)
    assert message["From"] == "Atelier <no-reply@atelier.test>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == MAIL.subject
    assert parsedate_to_datetime(message["Date"]) == when
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
    assert message.get_content() == MAIL.body
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "mail to ada@example.com: Your Atelier confirmation code" in caplog.text


async def test_mailbox_file_names_sort_by_sending_time(tmp_path: Path) -> None:
    times = iter(datetime(2025, 1, 1, 0, 0, s, tzinfo=UTC) for s in range(12))
    mailer = MailboxMailer(tmp_path, clock=lambda: next(times))
    for i in range(12):
        await mailer.send(Email(to="b@example.com", subject=f"n{i:02d}", body="x"))
    subjects = [read_eml(p)["Subject"] for p in sorted(tmp_path.glob("*.eml"))]
    assert subjects == [f"n{i:02d}" for i in range(12)]
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


async def test_in_memory_mailer_keeps_what_it_sent() -> None:
    mailer = InMemoryMailer()
    await mailer.send(MAIL)
    assert mailer.sent == [MAIL]
    assert mailer.last_to("ada@example.com") == MAIL
    assert mailer.last_to("nobody@example.com") is None


@pytest.mark.moto
async def test_ses_sends_from_a_verified_sender(aws: Aws) -> None:
    async with aws.client("ses") as ses:
        await ses.verify_email_identity(EmailAddress="no-reply@atelier.test")
        await SesMailer(ses, "no-reply@atelier.test").send(MAIL)
    [sent] = aws.moto_data()["ses"]["Message"]
    assert sent["source"] == "no-reply@atelier.test"
    assert sent["destinations"] == {"ToAddresses": ["ada@example.com"]}
    assert sent["subject"] == MAIL.subject
    assert sent["body"] == MAIL.body


@pytest.mark.moto
async def test_ses_rejects_an_unverified_sender(aws: Aws) -> None:
    from botocore.exceptions import ClientError

    async with SesMailer.create(
        aws.session, "stranger@atelier.test", region=aws.region, endpoint_url=aws.endpoint_url
    ) as mailer:
        with pytest.raises(ClientError, match="MessageRejected"):
            await mailer.send(MAIL)
