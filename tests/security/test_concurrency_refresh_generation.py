"""Sealed refresh tokens under bursts, each request from its own address, on SQLite and
PostgreSQL: twenty copies of one token advance the family by exactly one generation and
all get the same successor; a late replay ends the family and every token of it; tokens
that are not this server's seal touch nothing."""

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import select

from adapters.sql.tables import refresh_families
from tests.support.crowd import at_once, crowd, statuses
from tests.support.phone import API, bearer, device_id, error_code, new_guest, refresh
from tests.support.stack import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
BURST = 24
REUSE_SECONDS = 4.0


async def family_row(stack: Stack, family_id: str) -> Any:
    async with (await stack.engine()).connect() as connection:
        return (await connection.execute(select(refresh_families).where(
            refresh_families.c.id == family_id))).mappings().one()


async def burst(stack: Stack, token: str, device: str) -> tuple[str, dict[str, Any]]:
    """BURST refreshes of one token at once; the one successor they all got."""
    async with crowd(stack.base_url, BURST) as clients:
        started = time.monotonic()
        answers = await at_once(clients, lambda client, n: refresh(client, token, device))
        took = time.monotonic() - started
    assert took < REUSE_SECONDS, f"the burst took {took:.1f} s, past the reuse interval"
    assert statuses(answers) == [200] * BURST, [a.text for a in answers]
    successors = {a.json()["tokens"]["refresh_token"] for a in answers}
    assert len(successors) == 1, f"{len(successors)} different successors"
    tokens: dict[str, Any] = answers[0].json()["tokens"]
    return successors.pop(), tokens


async def test_a_burst_advances_one_generation_and_a_late_replay_ends_the_family(
    make_any_stack: StackFactory,
) -> None:
    async with make_any_stack(reuse_interval_seconds=REUSE_SECONDS) as stack:
        phone = device_id()
        guest = await new_guest(stack.client, phone)
        first = guest["tokens"]["refresh_token"]
        _, family_id, generation, _, _ = first.split(".")
        assert generation == "0"

        second, _ = await burst(stack, first, phone)
        assert second.startswith(f"v2.{family_id}.1.")
        assert (await family_row(stack, family_id))["generation"] == 1
        third, tokens = await burst(stack, second, phone)
        assert third.startswith(f"v2.{family_id}.2.")
        assert (await family_row(stack, family_id))["generation"] == 2
        assert (await stack.client.get(f"{API}/me", headers=bearer(tokens))).status_code == 200

        # The first token again, past the reuse interval: the whole family ends.
        await asyncio.sleep(REUSE_SECONDS + 0.5)
        async with crowd(stack.base_url, BURST) as clients:
            replays = await at_once(clients, lambda client, n: refresh(client, first, phone))
        assert statuses(replays) == [401] * BURST
        assert {error_code(r) for r in replays} <= {"refresh_token_reused", "session_revoked"}
        row = await family_row(stack, family_id)
        assert row["revoked_reason"] == "reuse_detected" and row["generation"] == 2
        assert (await refresh(stack.client, third, phone)).status_code == 401
        me = await stack.client.get(f"{API}/me", headers=bearer(tokens))
        assert me.status_code == 401, me.text


async def test_tokens_not_sealed_by_this_server_touch_nothing(
    make_any_stack: StackFactory,
) -> None:
    async with make_any_stack(reuse_interval_seconds=REUSE_SECONDS) as stack:
        phone = device_id()
        guest = await new_guest(stack.client, phone)
        token = guest["tokens"]["refresh_token"]
        _, family_id, _, secret, mac = token.split(".")
        flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
        forged = [
            f"v2.{family_id}.0.{secret}.{flipped}",  # a bad MAC
            f"v2.{family_id}.5.{secret}.{mac}",  # a generation the MAC does not cover
            f"v2.{family_id}.0.{secret}",  # no MAC at all
        ]
        async with crowd(stack.base_url, BURST) as clients:
            answers = await at_once(
                clients, lambda client, n: refresh(client, forged[n % len(forged)], phone))
        assert statuses(answers) == [401] * BURST
        assert {error_code(a) for a in answers} == {"invalid_refresh_token"}
        row = await family_row(stack, family_id)
        assert row["generation"] == 0 and row["revoked_at"] is None
        assert (await refresh(stack.client, token, phone)).status_code == 200
