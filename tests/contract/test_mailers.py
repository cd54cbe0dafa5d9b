"""Mailers: the local mailbox folder (.eml files) and SES on the moto server, then the Mailer
contract that the in-memory, mailbox and SES mailers all keep."""

import logging
import re
import stat
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from adapters.aws.ses_mailer import SesMailer
from adapters.local.identity import LocalIdentityProvider
from adapters.local.mailer import MailboxMailer
from adapters.memory.credentials import InMemoryCredentialStore
from adapters.memory.mailer import InMemoryMailer
from application.ports.messaging import Email, Mailer
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


# --- The Mailer contract: every mailer, the same assertions --------------------------------

SENDER = "no-reply@atelier.test"
CODE_MAIL = Email(
    to="ada@example.com",
    subject="Votre code Atelier — 画像 🎨",
    body="Your Atelier confirmation code is 042917\n\nÇa expire demain. 画像ができました。\n",
)


@dataclass(frozen=True)
class Delivered:
    """One message as its recipient's mail system would see it."""

    recipients: list[str]
    subject: str
    body: str


@dataclass
class Outbox:
    mailer: Mailer
    read: Callable[[], list[Delivered]]


def delivered_eml(directory: Path) -> list[Delivered]:
    found = []
    for path in sorted(directory.glob("*.eml")):
        message = read_eml(path)
        recipients = [address for _, address in getaddresses(
            [str(value) for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])])]
        found.append(Delivered(recipients, str(message["Subject"]), message.get_content()))
    return found


def delivered_ses(aws: Aws) -> list[Delivered]:
    found = []
    for sent in aws.moto_data()["ses"]["Message"]:
        destinations = sent["destinations"]
        recipients = [address for kind in ("ToAddresses", "CcAddresses", "BccAddresses")
                      for address in destinations.get(kind, [])]
        found.append(Delivered(recipients, sent["subject"], sent["body"]))
    return found


@pytest.fixture(params=["memory", "mailbox", pytest.param("ses", marks=pytest.mark.moto)])
async def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Outbox]:
    if request.param == "memory":
        memory = InMemoryMailer()
        yield Outbox(memory, lambda: [Delivered([e.to], e.subject, e.body) for e in memory.sent])
    elif request.param == "mailbox":
        mailbox = MailboxMailer(tmp_path / "mailbox", sender=f"Atelier <{SENDER}>")
        yield Outbox(mailbox, lambda: delivered_eml(tmp_path / "mailbox"))
    else:
        aws: Aws = request.getfixturevalue("aws")
        async with aws.client("ses") as ses:
            await ses.verify_email_identity(EmailAddress=SENDER)
            yield Outbox(SesMailer(ses, f"Atelier <{SENDER}>"), lambda: delivered_ses(aws))


async def test_mail_goes_to_exactly_the_given_address(outbox: Outbox) -> None:
    await outbox.mailer.send(CODE_MAIL)
    await outbox.mailer.send(replace(CODE_MAIL, to="bob.o-neil+atelier@mail.example.org"))
    assert [d.recipients for d in outbox.read()] == [
        ["ada@example.com"], ["bob.o-neil+atelier@mail.example.org"]]


async def test_the_code_subject_and_body_arrive_intact_in_any_script(outbox: Outbox) -> None:
    await outbox.mailer.send(CODE_MAIL)
    [mail] = outbox.read()
    assert mail.subject == CODE_MAIL.subject
    assert mail.body == CODE_MAIL.body
    assert re.findall(r"\b\d{6}\b", mail.body) == ["042917"]


async def test_a_confirmation_code_it_delivers_confirms_the_address(outbox: Outbox) -> None:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    identity = LocalIdentityProvider(InMemoryCredentialStore(), outbox.mailer, lambda: when, cheap)
    subject = await identity.register("ada@example.com", "Correct-Horse-9-battery")
    [mail] = outbox.read()
    assert mail.recipients == ["ada@example.com"]
    [code] = re.findall(r"\b\d{6}\b", mail.body)
    assert await identity.confirm("ada@example.com", code) == subject


INJECTIONS = [
    replace(CODE_MAIL, subject="Your code\r\nBcc: eve@evil.test"),
    replace(CODE_MAIL, subject="Your code\nBcc: eve@evil.test\n\nforged body"),
    replace(CODE_MAIL, to="ada@example.com\r\nBcc: eve@evil.test"),
    replace(CODE_MAIL, to="Ada\r\nBcc: eve@evil.test <ada@example.com>"),
    replace(CODE_MAIL, to="eve@evil.test, ada@example.com"),
]


async def test_header_injection_is_refused_or_neutralised(outbox: Outbox) -> None:
    """A line break or a second address never becomes another header or recipient: the
    mailer refuses the mail (ValueError), or sends it to the one address with the subject
    on one line."""
    for mail in INJECTIONS:
        before = len(outbox.read())
        try:
            await outbox.mailer.send(mail)
        except ValueError:
            assert len(outbox.read()) == before, mail
            continue
        sent = outbox.read()[before:]
        assert [m.recipients for m in sent] == [["ada@example.com"]], mail
        assert "\r" not in sent[0].subject and "\n" not in sent[0].subject, mail


async def test_mailbox_headers_are_7bit_with_the_unicode_subject_encoded(tmp_path: Path) -> None:
    await MailboxMailer(tmp_path, sender=f"Atelier <{SENDER}>").send(CODE_MAIL)
    [path] = list(tmp_path.glob("*.eml"))
    head = path.read_bytes().split(b"\n\n", 1)[0]
    assert head.isascii()
    assert {line.split(b":", 1)[0] for line in head.splitlines() if not line[:1].isspace()} == {
        b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Content-Type",
        b"Content-Transfer-Encoding", b"MIME-Version"}
