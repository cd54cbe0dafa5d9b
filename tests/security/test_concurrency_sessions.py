"""Transfer codes and refresh tokens under bursts of concurrent requests, each from its own
address, on SQLite and PostgreSQL: each attack asserts the exact bound."""

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
from sqlalchemy import func, select

from adapters.sql.tables import transfer_codes
from tests.support.crowd import at_once, crowd, statuses
from tests.support.phone import API, bearer, device_id, error_code, new_guest, refresh
from tests.support.stack import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
BURST = 20
REUSE_SECONDS = 5.0


async def redeem(client: httpx.AsyncClient, code: str) -> httpx.Response:
    return await client.post(f"{API}/transfer-codes/redeem", json={
        "code": code, "device_id": device_id(), "platform": "ios"})


async def issue(client: httpx.AsyncClient, tokens: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{API}/transfer-codes", headers=bearer(tokens))


def exactly_one_winner(answers: list[httpx.Response]) -> httpx.Response:
    assert statuses(answers) == [200] + [404] * (len(answers) - 1), statuses(answers)
    assert {error_code(a) for a in answers if a.status_code == 404} == {"invalid_transfer_code"}
    return next(a for a in answers if a.status_code == 200)


async def open_codes(stack: Stack, user_id: str) -> int:
    async with (await stack.engine()).connect() as connection:
        found = await connection.scalar(
            select(func.count()).select_from(transfer_codes).where(
                transfer_codes.c.user_id == user_id, transfer_codes.c.used_at.is_(None),
                transfer_codes.c.voided_at.is_(None)))
    return int(found or 0)


async def test_one_transfer_code_redeemed_twenty_times_at_once_works_once(
    make_any_stack: StackFactory,
) -> None:
    async with make_any_stack() as stack:
        guest = await new_guest(stack.client)
        issued = await issue(stack.client, guest["tokens"])
        assert issued.status_code == 201, issued.text
        async with crowd(stack.base_url, BURST) as clients:
            answers = await at_once(
                clients, lambda client, n: redeem(client, issued.json()["code"]))
        winner = exactly_one_winner(answers)
        assert winner.json()["user"]["id"] == guest["user"]["id"]
        me = await stack.client.get(f"{API}/me", headers=bearer(winner.json()["tokens"]))
        assert me.status_code == 200


async def test_twenty_concurrent_issues_leave_exactly_one_live_code(
    make_any_stack: StackFactory,
) -> None:
    async with make_any_stack() as stack:
        guest = await new_guest(stack.client)
        async with crowd(stack.base_url, BURST) as clients:
            issued = await at_once(clients, lambda client, n: issue(client, guest["tokens"]))
            assert statuses(issued) == [201] * BURST, [a.text for a in issued]
            assert await open_codes(stack, guest["user"]["id"]) == 1
            codes = [answer.json()["code"] for answer in issued]
            answers = await at_once(clients, lambda client, n: redeem(client, codes[n]))
        exactly_one_winner(answers)


async def test_concurrent_refreshes_converge_and_a_late_replay_revokes_the_family(
    make_any_stack: StackFactory,
) -> None:
    async with make_any_stack(reuse_interval_seconds=REUSE_SECONDS) as stack:
        phone = device_id()
        guest = await new_guest(stack.client, phone)
        presented = guest["tokens"]["refresh_token"]
        async with crowd(stack.base_url, BURST) as clients:
            started = time.monotonic()
            answers = await at_once(clients, lambda client, n: refresh(client, presented, phone))
            finished = time.monotonic()  # every rotation happened before this
            took = finished - started
        assert took < REUSE_SECONDS, f"the burst took {took:.1f} s, past the reuse interval"
        assert statuses(answers) == [200] * BURST, [a.text for a in answers]
        current = {answer.json()["tokens"]["refresh_token"] for answer in answers}
        assert len(current) == 1, f"{len(current)} different current tokens"
        (successor,) = current

        # Past the reuse interval counted from the last rotation, whenever the server did it.
        await asyncio.sleep(REUSE_SECONDS - (time.monotonic() - finished) + 0.5)
        replay = await refresh(stack.client, presented, phone)
        assert replay.status_code == 401
        # Reuse after the interval revokes the whole family, the current token with it.
        assert (await refresh(stack.client, successor, phone)).status_code == 401
