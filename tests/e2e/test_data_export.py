"""Data export (GDPR art. 15 and 20) over real HTTP, with everything `atelier dev` runs on
one port (the mobile API, the worker and its export relay): on SQLite with the files
store, and on PostgreSQL with Redis and S3 (moto server)."""

import asyncio
import email
import io
import json
import re
import secrets
import time
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.tables import exports, outbox
from application.exports.request_export import EXPORT_REQUESTED
from entrypoints.dev.app import create_dev_app
from entrypoints.wiring.settings import Settings
from tests.e2e.conftest import StackFactory
from tests.e2e.test_account_deletion import free_port, serving_on
from tests.fixtures.aws import DUMMY_KEY
from tests.support.crowd import at_once, crowd
from tests.support.images import FAST
from tests.support.phone import API, bearer, device_id, error_code, register
from tests.support.stack import CHEAP_HASHING

PASSWORD = "correct horse battery staple"
BUCKET = "atelier-exports-test"
PROMPTS = ("a lighthouse at dawn", "a fox in the snow, ünïcode ✓")


@dataclass
class Dev:
    client: httpx.AsyncClient
    settings: Settings
    database_url: str

    def mailed(self, address: str, subject_has: str) -> list[str]:
        folder = self.settings.data_dir / "mailbox"
        bodies = []
        for path in sorted(folder.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes())
            if message["To"] == address and subject_has in str(message["Subject"]):
                payload = message.get_payload(decode=True)
                bodies.append(payload.decode() if isinstance(payload, bytes)
                              else str(message.get_payload()))
        return bodies

    async def scalar(self, query: Any) -> Any:
        engine = create_async_engine(self.database_url)
        try:
            async with engine.begin() as connection:
                return (await connection.execute(query)).scalar()
        finally:
            await engine.dispose()

    async def execute(self, statement: Any) -> None:
        engine = create_async_engine(self.database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(statement)
        finally:
            await engine.dispose()


@pytest.fixture
async def dev(database_url: str, tmp_path: Path, request: pytest.FixtureRequest,
              monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Dev]:
    extra: dict[str, Any] = {}
    if database_url.startswith("postgresql"):
        aws = request.getfixturevalue("aws")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
        async with aws.client("s3") as s3:
            await s3.create_bucket(Bucket=BUCKET)
        extra = {"redis_url": request.getfixturevalue("redis_url"), "s3_bucket": BUCKET,
                 "aws_endpoint_url": aws.endpoint_url}
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings.model_validate({
        "data_dir": tmp_path / "data", "database_url": database_url, "keystore": "memory",
        "public_url": base_url, **CHEAP_HASHING, **FAST, **extra,
        "rate_limit_sessions_per_minute": 10_000, "rate_limit_guests_per_minute": 10_000})
    async with (
        serving_on(create_dev_app(settings), port),
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        yield Dev(client, settings, database_url)


async def confirmed_member(dev: Dev, address: str, device: str) -> dict[str, Any]:
    registered = await register(dev.client, address, PASSWORD, device)
    assert registered.status_code == 201, registered.text
    code = next(c for body in dev.mailed(address, "confirmation")
                for c in re.findall(r"\b\d{6}\b", body))
    confirmed = await dev.client.post(f"{API}/accounts/confirm",
                                      json={"email": address, "code": code})
    assert confirmed.status_code == 200, confirmed.text
    tokens: dict[str, Any] = registered.json()["tokens"]
    return tokens


async def until(dev: Dev, path: str, tokens: dict[str, Any], status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = await dev.client.get(path, headers=bearer(tokens))
        assert shown.status_code == 200, shown.text
        if shown.json()["status"] == status:
            body: dict[str, Any] = shown.json()
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never became {status}")


async def download(dev: Dev, url: str) -> bytes:
    async with httpx.AsyncClient(timeout=30) as outside:  # no bearer: the URL is the grant
        got = await outside.get(url)
    assert got.status_code == 200, got.text
    return got.content


def entry(archive: zipfile.ZipFile, name: str) -> Any:
    return json.loads(archive.read(name))


async def test_export_holds_profile_devices_images_and_pictures(dev: Dev) -> None:
    address, phone = f"export-{secrets.token_hex(4)}@example.com", device_id()
    tokens = await confirmed_member(dev, address, phone)
    me = (await dev.client.get(f"{API}/me", headers=bearer(tokens))).json()
    images = []
    for prompt in PROMPTS:
        queued = await dev.client.post(f"{API}/images", headers=bearer(tokens),
                                       json={"prompt": prompt})
        assert queued.status_code == 202, queued.text
        images.append(await until(dev, f"{API}/images/{queued.json()['id']}", tokens, "ready"))

    asked = await dev.client.post(f"{API}/me/exports", headers=bearer(tokens))
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "queued"
    export_path = f"{API}/me/exports/{asked.json()['id']}"
    ready = await until(dev, export_path, tokens, "ready")
    assert ready["url"] and ready["expires_at"] > ready["completed_at"]
    if dev.settings.s3_bucket:  # PostgreSQL's run: a presigned URL of the S3 object
        assert BUCKET in ready["url"] and f"exports/{me['id']}/" in ready["url"]

    archive = zipfile.ZipFile(io.BytesIO(await download(dev, ready["url"])))
    assert sorted(archive.namelist()) == sorted(
        ["profile.json", "devices.json", "sign_ins.json", "images.json",
         *(f"images/{image['id']}.png" for image in images)])
    profile = entry(archive, "profile.json")
    assert profile["id"] == me["id"] and profile["email"] == address
    assert profile["kind"] == "member" and profile["created_at"]
    assert "notify_by_email" in profile["preferences"]
    assert [d["device_id"] for d in entry(archive, "devices.json")] == [phone]
    assert entry(archive, "sign_ins.json") == []  # no Apple or Google sign-in linked
    listed = {record["id"]: record for record in entry(archive, "images.json")}
    assert listed.keys() == {image["id"] for image in images}
    for image in images:
        record = listed[image["id"]]
        assert record["prompt"] == image["prompt"]
        assert (record["size"], record["quality"], record["status"]) == (
            image["size"], image["quality"], "ready")
        assert _same_moment(record["created_at"], image["created_at"])
        assert _same_moment(record["completed_at"], image["completed_at"])
        assert record["file"] == f"images/{image['id']}.png"
        stored = await download(dev, image["url"])
        assert stored.startswith(b"\x89PNG")
        assert archive.read(record["file"]) == stored

    # The e-mail goes to the confirmed address once.
    assert len(dev.mailed(address, "data export is ready")) == 1


async def test_a_redelivered_job_changes_nothing(dev: Dev) -> None:
    address = f"export-{secrets.token_hex(4)}@example.com"
    tokens = await confirmed_member(dev, address, device_id())
    asked = await dev.client.post(f"{API}/me/exports", headers=bearer(tokens))
    export_id = asked.json()["id"]
    path = f"{API}/me/exports/{export_id}"
    first = await until(dev, path, tokens, "ready")
    first_zip = await download(dev, first["url"])

    # At-least-once: the relay delivers the same job again.
    await dev.execute(update(outbox).where(outbox.c.topic == EXPORT_REQUESTED)
                      .values(published_at=None))
    deadline = time.monotonic() + 20
    while await dev.scalar(select(func.count()).select_from(outbox).where(
            outbox.c.topic == EXPORT_REQUESTED, outbox.c.published_at.is_(None))):
        assert time.monotonic() < deadline, "the job was never delivered again"
        await asyncio.sleep(0.1)

    again = await until(dev, path, tokens, "ready")
    assert (again["completed_at"], again["expires_at"]) == (
        first["completed_at"], first["expires_at"])
    assert await download(dev, again["url"]) == first_zip
    assert len(dev.mailed(address, "data export is ready")) == 1


async def test_another_users_export_is_not_found(dev: Dev) -> None:
    owner = await confirmed_member(dev, f"owner-{secrets.token_hex(4)}@example.com", device_id())
    other = await confirmed_member(dev, f"other-{secrets.token_hex(4)}@example.com", device_id())
    asked = await dev.client.post(f"{API}/me/exports", headers=bearer(owner))
    path = f"{API}/me/exports/{asked.json()['id']}"
    await until(dev, path, owner, "ready")
    peeked = await dev.client.get(path, headers=bearer(other))
    assert peeked.status_code == 404 and error_code(peeked) == "export_not_found"
    unknown = await dev.client.get(f"{API}/me/exports/{'0' * 32}", headers=bearer(owner))
    assert unknown.status_code == 404 and error_code(unknown) == "export_not_found"
    anonymous = await dev.client.get(path)
    assert anonymous.status_code == 401
    # Once ready, another may be asked for.
    assert (await dev.client.post(f"{API}/me/exports", headers=bearer(owner))).status_code == 202
    # After its week, the export is gone for its owner too.
    await dev.execute(update(exports).where(exports.c.id == asked.json()["id"])
                      .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = await dev.client.get(path, headers=bearer(owner))
    assert expired.status_code == 404 and error_code(expired) == "export_expired"


async def test_twenty_concurrent_requests_create_one_export(make_stack: StackFactory) -> None:
    """No worker here, so the first export stays queued while the others arrive."""
    async with make_stack(rate_limit_sessions_per_minute=10_000) as stack:
        guest = (await stack.client.post(f"{API}/guests", json={
            "device_id": device_id(), "platform": "ios"})).json()
        async with crowd(stack.base_url, 20) as clients:
            answers = await at_once(clients, lambda client, _: client.post(
                f"{API}/me/exports", headers=bearer(guest["tokens"])))
        accepted = [a for a in answers if a.status_code == 202]
        refused = [a for a in answers if a.status_code == 409]
        assert len(accepted) == 1 and len(refused) == 19, [a.status_code for a in answers]
        assert {error_code(a) for a in refused} == {"export_in_progress"}
        engine = await stack.engine()
        async with engine.connect() as connection:
            rows = await connection.scalar(select(func.count()).select_from(exports).where(
                exports.c.user_id == guest["user"]["id"]))
        assert rows == 1


def _same_moment(a: str, b: str) -> bool:
    return datetime.fromisoformat(a.replace("Z", "+00:00")) == datetime.fromisoformat(
        b.replace("Z", "+00:00"))


async def test_the_schema_documents_the_export_routes_and_their_errors(
    make_stack: StackFactory,
) -> None:
    async with make_stack() as stack:
        paths = (await stack.client.get(f"{API}/schema/openapi.json")).json()["paths"]
    create = paths[f"{API}/me/exports"]["post"]
    show = paths[f"{API}/me/exports/{{export_id}}"]["get"]
    # No body, so no 422: the document lists what the operation can answer.
    assert {"202", "401", "409", "429"} <= create["responses"].keys()
    assert "422" not in create["responses"]
    assert "export_in_progress" in create["description"]
    assert {"200", "401", "404", "429"} <= show["responses"].keys()
    assert "export_not_found" in show["description"] and "export_expired" in show["description"]


async def test_asking_again_and_again_is_rate_limited(make_stack: StackFactory) -> None:
    async with make_stack(rate_limit_sessions_per_minute=2) as stack:
        guest = (await stack.client.post(f"{API}/guests", json={
            "device_id": device_id(), "platform": "ios"})).json()
        answers = [await stack.client.post(f"{API}/me/exports", headers=bearer(guest["tokens"]))
                   for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 409, 429]
    assert error_code(answers[2]) == "too_many_requests" and answers[2].headers["Retry-After"]
