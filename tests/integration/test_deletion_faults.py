"""Account deletion when the outside world fails: S3 unreachable at the moment of deletion,
and the mobile API process (whose relay deletes the objects) SIGKILLed mid-deletion. On
PostgreSQL, S3 (moto) and Redis: nothing is left behind once things recover, and nothing
of the address's next owner is ever touched."""

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import insert, select

from adapters.sql.tables import images, outbox
from application.identity.account_cleanup import DELETE_OBJECTS
from domain.shared.clock import utcnow
from domain.shared.ids import new_id
from tests.integration.test_image_faults import BUCKET, World, eventually
from tests.integration.test_image_faults import world as world_fixture  # noqa: F401
from tests.support.phone import API, bearer, device_id, login, register
from tests.support.processes import TcpProxy, atelier

pytestmark = [pytest.mark.postgres, pytest.mark.moto, pytest.mark.redis,
              pytest.mark.timeout(180)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def rig(world_fixture: World) -> World:  # noqa: F811
    """The image fault rig's world: moto (S3, SQS, SES), PostgreSQL, Redis."""
    return world_fixture


async def stored_images(world: World, user_id: str, count: int) -> list[str]:
    """`count` ready images of the user, their pictures in S3 under the user's id."""
    keys, now = [], utcnow()
    async with world.aws.client("s3") as s3, world.engine.begin() as connection:
        for _ in range(count):
            image_id = new_id()
            key = f"images/{user_id}/{image_id}.png"
            await s3.put_object(Bucket=BUCKET, Key=key, Body=b"\x89PNG fake")
            await connection.execute(insert(images).values(
                id=image_id, user_id=user_id, status="ready", prompt="a red fox",
                size="1024x1024", quality="low", object_key=key, created_at=now,
                updated_at=now))
            keys.append(key)
    return keys


async def member(client: httpx.AsyncClient, address: str, code: Any) -> dict[str, Any]:
    registered = await register(client, address, PASSWORD, device_id())
    assert registered.status_code == 201, registered.text
    confirmed = await client.post(f"{API}/accounts/confirm", json={
        "email": address, "code": code(address)})
    assert confirmed.status_code == 200, confirmed.text
    body: dict[str, Any] = registered.json()
    return body


async def deletion_messages(world: World) -> list[dict[str, Any]]:
    async with world.engine.connect() as connection:
        rows = await connection.execute(select(outbox).where(outbox.c.topic == DELETE_OBJECTS))
        return [dict(row) for row in rows.mappings()]


async def test_s3_down_at_deletion_the_objects_go_when_it_is_back(rig: World) -> None:
    world = rig
    moto = urlparse(world.aws.endpoint_url)
    proxy = TcpProxy(moto.hostname or "127.0.0.1", moto.port or 80)
    await proxy.start()
    try:
        async with world.api(aws_endpoint_url=f"http://127.0.0.1:{proxy.port}",
                             ses_sender=None) as stack:
            address = "leaving@example.com"
            old = await member(stack.client, address, stack.confirmation_code)
            old_keys = await stored_images(world, old["user"]["id"], 3)

            await proxy.cut()
            deleted = await stack.client.request(
                "DELETE", f"{API}/me", headers=bearer(old["tokens"]),
                json={"password": PASSWORD})
            assert deleted.status_code == 202, deleted.text
            assert (await stack.client.get(f"{API}/me", headers=bearer(old["tokens"]))
                    ).status_code == 401

            async def tried_and_failed() -> bool:
                [message] = await deletion_messages(world)
                assert message["published_at"] is None
                return bool(message["attempts"] >= 1)

            await eventually(tried_and_failed)
            assert sorted(await world.objects()) == sorted(old_keys)

            # The address's next owner, with a picture of its own, before S3 comes back.
            again = await member(stack.client, address, stack.confirmation_code)
            new_keys = await stored_images(world, again["user"]["id"], 1)

            await proxy.restore()

            async def cleaned_up() -> bool:
                return sorted(await world.objects()) == new_keys

            await eventually(cleaned_up, 30)
            [message] = await deletion_messages(world)
            assert message["published_at"] is not None
            await asyncio.sleep(1)  # a duplicate delivery would show here
            assert sorted(await world.objects()) == new_keys
            assert (await stack.client.get(f"{API}/me", headers=bearer(again["tokens"]))
                    ).status_code == 200
    finally:
        await proxy.cut()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def mobile_api(world: World, name: str) -> AsyncIterator[tuple[str, Any]]:
    port = free_port()
    env = world.worker_env(DATA_DIR=str(world.tmp / "api-data"),
                           PASSWORD_HASH_MEMORY_KIB="1024", PASSWORD_HASH_TIME_COST="1")
    async with atelier("serve", "mobile-api", "--host", "127.0.0.1", "--port", str(port),
                       env=env, log=world.tmp / f"{name}.log") as process:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            while time.monotonic() < deadline:
                assert process.alive, process.output()[-3000:]
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            yield base, process


async def test_the_api_killed_mid_deletion_its_successor_finishes(rig: World) -> None:
    world = rig
    address = "killed-mid-way@example.com"
    async with world.api(ses_sender=None) as stack:  # registers, and reads the mailed code
        old = await member(stack.client, address, stack.confirmation_code)
    old_keys = await stored_images(world, old["user"]["id"], 150)

    async with (
        mobile_api(world, "doomed") as (base, doomed),
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        signed_in = await login(client, address, PASSWORD, device_id())
        assert signed_in.status_code == 200, signed_in.text
        deleted = await client.request(
            "DELETE", f"{API}/me", headers=bearer(signed_in.json()["tokens"]),
            json={"password": PASSWORD})
        assert deleted.status_code == 202, deleted.text

        async def some_gone() -> bool:
            return len(await world.objects()) < len(old_keys)

        await eventually(some_gone, 20)
        doomed.kill()
    left = await world.objects()
    assert 0 < len(left) < len(old_keys), "the kill did not land mid-deletion"
    [message] = await deletion_messages(world)
    assert message["published_at"] is None

    async with world.api(ses_sender=None) as stack:
        again = await member(stack.client, address, stack.confirmation_code)
        new_keys = await stored_images(world, again["user"]["id"], 2)

    async with mobile_api(world, "successor"):
        async def cleaned_up() -> bool:
            return sorted(await world.objects()) == sorted(new_keys)

        await eventually(cleaned_up, 30)

        async def published() -> bool:
            [message] = await deletion_messages(world)
            return message["published_at"] is not None

        await eventually(published)
    assert sorted(await world.objects()) == sorted(new_keys)
