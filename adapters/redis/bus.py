"""`RedisRealtimeBus`: Redis pub/sub between the origin and every gateway node.

A message on channel `c` is published to the Redis channel `<prefix>c` as the JSON
`{"channel": c, "data": ...}`, plus `"traceparent"` when the publisher is traced. Each node
holds ONE subscription connection (PSUBSCRIBE `<prefix>*`) however many local listeners it
has, and fans messages out to them. When the
connection dies (Redis restart, `CLIENT KILL`), `healthy` turns False and the node
resubscribes with jittered exponential backoff; messages published meanwhile are lost, as
pub/sub promises nothing more.
"""

import asyncio
import contextlib
import json
import logging
import os
import random
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from application.ports.messaging import BusMessage

log = logging.getLogger("atelier.bus")

QUEUE_LIMIT = 10_000


class RedisRealtimeBus:
    """RealtimeBus over Redis pub/sub, one subscription per node, resubscribing on loss."""

    def __init__(
        self,
        redis: Redis,
        prefix: str = "atelier:rt:",
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        client_name: str | None = None,
    ) -> None:
        self._redis, self._prefix = redis, prefix
        self._backoff, self._max_backoff = backoff, max_backoff
        self._client_name = client_name or f"atelier-bus-{os.getpid()}"
        self._listeners: set[asyncio.Queue[BusMessage]] = set()
        self._subscriber: asyncio.Task[None] | None = None
        self._subscribed = False

    async def publish(
        self, channel: str, data: dict[str, Any], traceparent: str | None = None
    ) -> None:
        envelope: dict[str, Any] = {"channel": channel, "data": data}
        if traceparent is not None:
            envelope["traceparent"] = traceparent
        payload = json.dumps(envelope, separators=(",", ":"))
        await self._redis.publish(self._prefix + channel, payload)

    async def listen(self) -> AsyncIterator[BusMessage]:
        queue: asyncio.Queue[BusMessage] = asyncio.Queue(QUEUE_LIMIT)
        self._listeners.add(queue)
        if self._subscriber is None:
            self._subscriber = asyncio.create_task(self._subscribe_forever())
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners.discard(queue)
            if not self._listeners and self._subscriber is not None:
                self._subscriber.cancel()
                self._subscriber, self._subscribed = None, False

    @property
    def healthy(self) -> bool:
        """True when nothing listens here (publishing needs no subscription) or the
        subscription is alive."""
        return self._subscriber is None or self._subscribed

    def _subscription_client(self) -> Redis:
        # Its own one-connection pool without silent retries: a lost subscription must
        # surface here, so that `healthy` tells the truth and we resubscribe ourselves.
        source = self._redis.connection_pool
        kwargs = {k: v for k, v in source.connection_kwargs.items()
                  if k not in ("retry", "client_name")}
        pool = ConnectionPool(
            connection_class=source.connection_class, max_connections=1,
            retry=Retry(NoBackoff(), 0), client_name=self._client_name, **kwargs)
        return Redis(connection_pool=pool)

    async def _subscribe_forever(self) -> None:
        delay = self._backoff
        while True:
            client = self._subscription_client()
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(self._prefix + "*")
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        self._subscribed, delay = True, self._backoff
                        log.info("realtime bus subscribed")
                    elif message["type"] == "pmessage":
                        self._deliver(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("realtime bus subscription lost; resubscribing",
                            extra={"fields": {"error": repr(exc)[:200], "retry_in": delay}})
            finally:
                self._subscribed = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis
                with contextlib.suppress(Exception):
                    await client.aclose(close_connection_pool=True)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self._max_backoff)

    def _deliver(self, redis_channel: bytes | str, raw: bytes | str) -> None:
        try:
            decoded = json.loads(raw)
            channel, data = str(decoded["channel"]), decoded["data"]
            traceparent = decoded.get("traceparent")
            message = BusMessage(channel, data,
                                 traceparent if isinstance(traceparent, str) else None)
        except (ValueError, KeyError, TypeError):
            log.warning("dropped a malformed realtime bus message")
            return
        if isinstance(redis_channel, bytes):
            redis_channel = redis_channel.decode("utf-8", "replace")
        # `<prefix>*` also matches a longer prefix (`atelier:rt:staging:`): another
        # deployment's traffic, which must not be delivered here under its inner name.
        if redis_channel != self._prefix + message.channel or not isinstance(message.data, dict):
            return
        for queue in list(self._listeners):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(message)
