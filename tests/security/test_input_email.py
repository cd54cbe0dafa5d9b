"""An e-mail address names one mailbox. A display name, a list or an encoded word that a
mail system would read as somebody else's mailbox is refused (422 `invalid_email`) on every
route that takes an address, and no mailer ever sends to one; the address is stored in one
canonical form, so uniqueness and the per-address limits hold per mailbox."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from adapters.aws.ses_mailer import SesMailer
from adapters.local.mailer import MailboxMailer
from adapters.memory.mailer import InMemoryMailer
from adapters.sql.migrate import upgrade_database
from application.ports.messaging import Email
from domain.users.model import InvalidEmail, normalize_email
from entrypoints.http_edge.email_address import parse_email_address
from tests.fixtures.aws import Aws
from tests.support.admin import ADMIN, AdminStack, running_admin_stack
from tests.support.phone import API, bearer, device_id, new_guest
from tests.support.processes import ROOT

# Each was accepted as an address, and mail went to the victim's mailbox.
ATTACKS = ["x<victim@evil.com>", "=?utf-8?q?evil?=@example.com", "a,b@example.com"]
MORE_ATTACKS = [
    "Victim <victim@evil.com>", "victim@evil.com (comment)", '"a@b"@example.com',
    "a@example.com, victim@evil.com", "a@example.com\r\nBcc: victim@evil.com",
    "a@[127.0.0.1]", "a@example.com>", "=?utf-8?b?dmljdGlt?=@example.com",
]
PASSWORD = "a long enough password"


@pytest.mark.parametrize("raw", ATTACKS + MORE_ATTACKS)
def test_neither_the_edge_nor_the_domain_takes_anything_but_a_plain_address(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        parse_email_address(raw)
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


@pytest.mark.parametrize(("raw", "stored"), [
    (" Aiko@Example.COM ", "aiko@example.com"),
    ("Aiko@Bücher.DE", "aiko@xn--bcher-kva.de"),
    ("aiko@XN--BCHER-KVA.de", "aiko@xn--bcher-kva.de"),
    ("o'neil+atelier@mail.example.org", "o'neil+atelier@mail.example.org"),
])
def test_an_address_has_one_stored_form(raw: str, stored: str) -> None:
    assert parse_email_address(raw) == stored
    assert normalize_email(stored) == stored


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[AdminStack]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)
    async with running_admin_stack(tmp_path / "data", url,
                                   rate_limit_sessions_per_minute=100_000) as running:
        yield running


def mailbox(stack: AdminStack) -> list[str]:
    """The To header of every message the local mailer wrote."""
    parse = BytesParser(policy=policy.default).parse
    folder = stack.settings.data_dir / "mailbox"
    found = []
    for path in sorted(folder.glob("*.eml")):
        with path.open("rb") as file:
            found.append(str(parse(file)["To"]))
    return found


FILLERS = {"password": PASSWORD, "current_password": PASSWORD, "platform": "ios",
           "code": "123456"}


async def routes_taking_an_address(stack: AdminStack) -> list[tuple[str, str, list[str]]]:
    """(method, path, body fields) of every operation of both APIs whose JSON body has an
    `email`: a route added later is covered without a change here."""
    found = []
    for schema_path in (f"{API}/schema/openapi.json", f"{ADMIN}/schema/openapi.json"):
        schema = (await stack.client.get(schema_path)).json()
        components = schema.get("components", {}).get("schemas", {})
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                body = operation.get("requestBody", {}).get("content", {}).get(
                    "application/json", {}).get("schema", {})
                fields = components.get(body.get("$ref", "").rpartition("/")[2], {}).get(
                    "properties", {})
                if "email" in fields:
                    found.append((method.upper(), path, list(fields)))
    return found


async def test_every_route_that_takes_an_address_refuses_a_non_address(
    stack: AdminStack,
) -> None:
    guest = await new_guest(stack.client)
    routes = await routes_taking_an_address(stack)
    assert {(m, p) for m, p, _ in routes} >= {
        ("POST", f"{API}/accounts"), ("POST", f"{API}/accounts/confirm"),
        ("POST", f"{API}/accounts/confirm/resend"), ("POST", f"{API}/accounts/merge-guest"),
        ("POST", f"{API}/sessions"), ("POST", f"{ADMIN}/sessions")}
    fillers = {**FILLERS, "device_id": device_id()}
    for raw in ATTACKS + MORE_ATTACKS:
        for method, path, fields in routes:
            body = {name: fillers.get(name, "x") for name in fields} | {"email": raw}
            response = await stack.client.request(method, path, json=body,
                                                  headers=bearer(guest["tokens"]))
            assert response.status_code == 422, (raw, path, response.text)
            assert response.json()["error"]["code"] == "invalid_email", (raw, path)
    assert mailbox(stack) == []


async def test_one_mailbox_is_one_account_whatever_the_spelling(stack: AdminStack) -> None:
    first = await stack.client.post(f"{API}/accounts", json={
        "email": " Aiko@Bücher.DE ", "password": PASSWORD, "device_id": device_id(),
        "platform": "ios"})
    assert first.status_code == 201, first.text
    assert mailbox(stack) == ["aiko@xn--bcher-kva.de"]
    again = await stack.client.post(f"{API}/accounts", json={
        "email": "AIKO@xn--bcher-kva.de", "password": PASSWORD, "device_id": device_id(),
        "platform": "ios"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "email_in_use"


SENDER = "no-reply@atelier.test"


@pytest.mark.parametrize("raw", ATTACKS + MORE_ATTACKS)
async def test_no_mailer_sends_to_a_non_address(raw: str, tmp_path: Path) -> None:
    mail = Email(to=raw, subject="Your Atelier code", body="Your code is 042917\n")
    memory = InMemoryMailer()
    folder = tmp_path / "mailbox"
    for mailer in (memory, MailboxMailer(folder, sender=f"Atelier <{SENDER}>")):
        with pytest.raises(ValueError, match="not a single mailbox"):
            await mailer.send(mail)
    assert memory.sent == [] and not list(folder.glob("*.eml"))


@pytest.mark.moto
async def test_ses_never_sends_to_a_non_address(aws: Aws) -> None:
    async with aws.client("ses") as ses:
        await ses.verify_email_identity(EmailAddress=SENDER)
        mailer = SesMailer(ses, f"Atelier <{SENDER}>")
        for raw in ATTACKS + MORE_ATTACKS:
            with pytest.raises(ValueError, match="not a single mailbox"):
                await mailer.send(Email(to=raw, subject="Your Atelier code", body="042917"))
    assert aws.moto_data()["ses"]["Message"] == []


async def test_the_mailbox_header_carries_exactly_the_address(tmp_path: Path) -> None:
    await MailboxMailer(tmp_path, sender=f"Atelier <{SENDER}>").send(
        Email(to="o'neil+atelier@xn--bcher-kva.de", subject="s", body="b"))
    [path] = list(tmp_path.glob("*.eml"))
    with path.open("rb") as file:
        message = BytesParser(policy=policy.default).parse(file)
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("", "o'neil+atelier@xn--bcher-kva.de")
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Atelier", SENDER)


async def admin_create(address: str, data_dir: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli.main", "admin", "create", address,
        "--password-stdin", "--data-dir", str(data_dir), cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(PASSWORD.encode() + b"\n"), 60)
    return process.returncode or 0, output.decode()


async def test_atelier_admin_create_takes_the_same_addresses(tmp_path: Path) -> None:
    code, output = await admin_create("x<victim@evil.com>", tmp_path)
    assert code != 0 and "not created: not a valid e-mail address" in output
    code, output = await admin_create(" Root@Bücher.DE ", tmp_path)
    assert code == 0, output
    assert "admin root@xn--bcher-kva.de created" in output
