"""One part of tests/bench/bench_refresh_instructions.py, run under valgrind callgrind with
instrumentation off: the mobile API's ASGI app on PostgreSQL, called directly (no sockets),
warmed up; then instrumentation is switched on for exactly N calls of one part, and off.

    python -m tests.bench.refresh_instructions_inprocess PART N

PART is one of:
- `bare`: the bare litestar route (`GET /bench/bare`, as in bench_identity);
- `refresh`: `POST /v1/api/sessions/refresh`, every call rotating its own session;
- `http`: a POST route shaped like refresh (the same JSON body, the same injected use case,
  the same response type) that answers a session made beforehand: the HTTP stack's share;
- `use_case`: RefreshSession called directly (database, hashes, token building and signing);
- `tokens`: TokenFactory.token_set alone (two JWTs signed, the refresh token sealed).

Settings come from the environment (bench_refresh_instructions sets them)."""

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from litestar import post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from application.identity.refresh import RefreshSession
from entrypoints.cli.commands import settle_heap
from entrypoints.mobile_api.app import create_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.mobile_api.schemas import RefreshRequest, SessionView
from entrypoints.wiring.di import Injected, resolve
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings
from entrypoints.wiring.tracing import install_tracing
from tests.bench.bench_refresh import _call, _guest_sessions, _lifespan
from tests.bench.identity_server import bare

PARTS = ("bare", "refresh", "http", "use_case", "tokens")
CONCURRENCY = 16  # refreshes in flight at once, so the ledger batches as under load
_REFRESH_TOKEN = re.compile(rb'"refresh_token":"([^"]+)"')
_ANSWER: list[SessionView] = []


@post("/bench/refresh-shaped", status_code=HTTP_200_OK)
async def refresh_shaped(
    data: JSONBody[RefreshRequest], refresh_session: Injected[RefreshSession]
) -> SessionView:
    return _ANSWER[0]


def instrumentation(state: str) -> None:
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())],
                   check=True, capture_output=True, timeout=300)


async def main(part: str, calls: int) -> None:
    settings = Settings()
    install_tracing(settings, "atelier-mobile-api")
    container = MobileContainer(infrastructure=Infrastructure(settings=settings))
    app = create_app(container)
    app.register(bare)
    app.register(refresh_shaped)
    async with _lifespan(app):
        refresh_session = await resolve(container.refresh_session)
        sessions = await _guest_sessions(app, CONCURRENCY)
        made = await refresh_session(*sessions[0])
        sessions[0][0] = made.tokens.refresh_token
        _ANSWER.append(SessionView.of(made))
        token_factory = await resolve(container.tokens)
        sealed = token_factory.open_refresh_token(made.tokens.refresh_token)
        assert sealed is not None
        ledger = await resolve(container.infrastructure.refresh_ledger)
        family, user = await ledger.find(sealed.family_id)

        def request(session: list[str]) -> bytes:
            return (b'{"refresh_token":"' + session[0].encode() + b'","device_id":"'
                    + session[1].encode() + b'"}')

        async def refresh(session: list[str]) -> None:
            body = await _call(app, "POST", "/v1/api/sessions/refresh", request(session), 200)
            session[0] = _REFRESH_TOKEN.search(body).group(1).decode()  # type: ignore[union-attr]

        async def http(session: list[str]) -> None:
            await _call(app, "POST", "/bench/refresh-shaped", request(session), 200)

        async def use_case(session: list[str]) -> None:
            session[0] = (await refresh_session(*session)).tokens.refresh_token

        async def tokens(session: list[str]) -> None:
            token_factory.token_set(user, family, "A" * 43, datetime.now(UTC))

        async def bare_route(session: list[str]) -> None:
            await _call(app, "GET", "/bench/bare", None, 200)

        steps: dict[str, Callable[[list[str]], Awaitable[None]]] = {
            "bare": bare_route, "refresh": refresh, "http": http, "use_case": use_case,
            "tokens": tokens}
        step = steps[part]

        async def loop(session: list[str], count: int) -> None:
            for _ in range(count):
                await step(session)

        for _ in range(3):  # warm: every code path, caches, the ledger's prepared statements
            await asyncio.gather(*(loop(s, 2) for s in sessions))
        settle_heap()  # as `atelier serve` does
        instrumentation("on")
        await asyncio.gather(*(loop(s, calls // CONCURRENCY) for s in sessions))
        instrumentation("off")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in PARTS:
        raise SystemExit(f"usage: {sys.argv[0]} {'|'.join(PARTS)} N")
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
