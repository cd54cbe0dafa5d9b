"""What every Lambda handler shares in one execution environment, built on first use and
kept for the warm invocations that follow: one event loop, one engine (DATABASE_URL), the
settings it read.

A setting may be a reference (`secretsmanager:<arn>`, `ssm:/path`), resolved on first read
by the resolver the services use, with the boto3 the Lambda runtime ships (the zip carries
no AWS SDK). Nothing is built at import: a cold start pays only for the handler module; a
trigger that never touches the database (pre sign-up) never loads SQLAlchemy, and a
function without references never loads boto3.
"""

import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from adapters.aws.references import REFERENCE_PREFIXES, resolve_with_boto3
from application.ports.unit_of_work import UnitOfWorkFactory

T = TypeVar("T")

_state: dict[str, Any] = {}


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs on the environment's one loop; pooled connections stay bound to it."""
    loop = _state.get("loop")
    if loop is None or loop.is_closed():
        import asyncio  # on first use: ~30 ms a cold start need not pay before it is called

        loop = _state["loop"] = asyncio.new_event_loop()
    return loop.run_until_complete(coroutine)


def uow_factory() -> UnitOfWorkFactory:
    factory = _state.get("uow_factory")
    if factory is None:
        from adapters.sql.engine import create_engine
        from adapters.sql.unit_of_work import sql_unit_of_work_factory

        url = env("DATABASE_URL")
        if not url:
            raise RuntimeError("set DATABASE_URL for the Lambda function")
        # One connection per environment: Lambda runs one invocation at a time in it.
        engine = _state["engine"] = create_engine(url, pool_size=1)
        factory = _state["uow_factory"] = sql_unit_of_work_factory(engine)
    result: UnitOfWorkFactory = factory
    return result


def env(name: str, default: str = "") -> str:
    """`ATELIER_<name>` or `<name>`, its reference resolved (once per environment)."""
    raw = os.environ.get(f"ATELIER_{name}") or os.environ.get(name) or default
    if not raw.startswith(REFERENCE_PREFIXES):
        return raw
    resolved: dict[str, str] = _state.setdefault("resolved", {})
    if raw not in resolved:
        endpoint = os.environ.get("ATELIER_AWS_ENDPOINT_URL") or os.environ.get(
            "AWS_ENDPOINT_URL")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        resolved[raw] = run(resolve_with_boto3({name: raw}, endpoint, region))[name]
    return resolved[raw]


def reset() -> None:
    """Disposes of the engine and the loop (tests; a Lambda environment never needs it)."""
    engine, loop = _state.pop("engine", None), _state.get("loop")
    if engine is not None and loop is not None and not loop.is_closed():
        loop.run_until_complete(engine.dispose())
    if loop is not None and not loop.is_closed():
        loop.close()
    _state.clear()
