"""Long-lived aioboto3 clients: opened once by a composition root, closed on shutdown."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aioboto3
from botocore.exceptions import ClientError


@asynccontextmanager
async def aws_client(
    session: aioboto3.Session, service: str, *, region: str, endpoint_url: str | None = None
) -> AsyncIterator[Any]:
    """One client for `service`, kept open for the life of the block."""
    async with session.client(service, region_name=region, endpoint_url=endpoint_url) as client:
        yield client


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
