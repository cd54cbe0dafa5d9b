"""Long-lived clients shared by every composition root, as async resources.

Optional technologies (AWS, Redis) are imported only when configured, so the embedded
default starts without loading them.
"""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import create_engine
from entrypoints.wiring.settings import Settings


async def open_engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


@dataclass
class AwsClients:
    """One aioboto3 session; each service's client opened once, on first use."""

    settings: Settings
    stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    clients: dict[str, Any] = field(default_factory=dict)

    async def client(self, service: str) -> Any:
        if service not in self.clients:
            import aioboto3
            from botocore.config import Config

            session = aioboto3.Session(region_name=self.settings.aws_region)
            config = Config(signature_version="s3v4", retries={"max_attempts": 3,
                                                              "mode": "standard"})
            self.clients[service] = await self.stack.enter_async_context(session.client(
                service, endpoint_url=self.settings.aws_endpoint_url, config=config))
        return self.clients[service]


async def open_aws(settings: Settings) -> AsyncIterator[AwsClients]:
    aws = AwsClients(settings)
    try:
        yield aws
    finally:
        await aws.stack.aclose()


async def open_redis(url: str | None) -> AsyncIterator[Any]:
    if not url:
        yield None
        return
    import redis.asyncio as redis

    client = redis.Redis.from_url(url, health_check_interval=15, socket_connect_timeout=3)
    try:
        yield client
    finally:
        await client.aclose()


async def resolve_settings(settings: Settings) -> Settings:
    """Replaces `ssm:/...` and `secretsmanager:...` values by what they name."""
    references = settings.references()
    if not references:
        return settings
    import aioboto3

    from adapters.aws.references import resolve_references

    session = aioboto3.Session(region_name=settings.aws_region)
    resolved = await resolve_references(
        references, session, settings.aws_endpoint_url, settings.aws_region)
    return settings.model_copy(update=resolved)
