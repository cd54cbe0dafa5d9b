"""`RedisRealtimeBus`: Redis pub/sub between the origin and every gateway node.

A message on channel `c` is published to the Redis channel `<prefix>c` as the JSON
`{"channel": c, "data": ...}`, plus `"traceparent"` when the publisher is traced.

Each node holds ONE subscription connection however many local listeners it has, and
subscribes on it only to what they need: `PSUBSCRIBE <prefix>*` while a listener wants
every channel, and one `SUBSCRIBE` per channel a listener names (the node-wide internal
channels) or the node has joined (the channel of each user with a socket here, reference
counted: the last socket of a user to leave unsubscribes it). So Redis sends a user's
messages only to the nodes that hold that user's sockets. Commands go out in order through
one writer; `join` returns once Redis has confirmed the subscription.

When the connection dies (Redis restart, `CLIENT KILL`), `healthy` turns False and the node
reconnects with jittered exponential backoff and subscribes again to everything it follows
(in batches); messages published meanwhile are lost, as pub/sub promises nothing more.
"""

import asyncio
import contextlib
import json
import logging
import os
import random
from collections import Counter
from collections.abc import AsyncIterator, Collection
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from application.ports.messaging import BusMessage

log = logging.getLogger("atelier.bus")

QUEUE_LIMIT = 10_000
BATCH = 1000  # channels per SUBSCRIBE when (re)subscribing
PING_EVERY = 10.0  # seconds of silence after which the node checks the connection


class RedisRealtimeBus:
    """NodeBus over Redis pub/sub, one subscription connection per node, resubscribing on
    loss."""

    def __init__(
        self,
        redis: Redis,
        prefix: str = "atelier:rt:",
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        client_name: str | None = None,
        confirm_within: float = 5.0,
    ) -> None:
        self._redis, self._prefix = redis, prefix
        self._backoff, self._max_backoff = backoff, max_backoff
        self._confirm_within = confirm_within
        self._client_name = client_name or f"atelier-bus-{os.getpid()}"
        self._everything: set[asyncio.Queue[BusMessage]] = set()
        self._selective: dict[asyncio.Queue[BusMessage], frozenset[str]] = {}
        self._joined: Counter[str] = Counter()
        self._wanted: Counter[str] = Counter()  # joins + listeners naming the channel
        self._confirmed: set[str] = set()  # subscribed on the live connection
        self._unsubscribing: Counter[str] = Counter()  # UNSUBSCRIBEs not yet confirmed
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._commands: asyncio.Queue[tuple[str, str]] | None = None
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

    async def listen(self, channels: Collection[str] | None = None) -> AsyncIterator[BusMessage]:
        queue: asyncio.Queue[BusMessage] = asyncio.Queue(QUEUE_LIMIT)
        named = None if channels is None else frozenset(channels)
        if named is None:
            self._everything.add(queue)
            if len(self._everything) == 1:
                self._command("PSUBSCRIBE", "*")
        else:
            self._selective[queue] = named
            for channel in named:
                self._want(channel)
        self._start()
        try:
            while True:
                yield await queue.get()
        finally:
            if named is None:
                self._everything.discard(queue)
                if not self._everything:
                    self._command("PUNSUBSCRIBE", "*")
            else:
                self._selective.pop(queue, None)
                for channel in named:
                    self._unwant(channel)
            self._stop_if_idle()

    async def join(self, channel: str) -> None:
        self._joined[channel] += 1
        self._want(channel)
        self._start()
        if channel in self._confirmed:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, self._confirm_within)
        except BaseException:
            self.leave(channel)
            raise
        finally:
            waiting = self._waiters.get(channel)
            if waiting is not None and waiter in waiting:
                waiting.remove(waiter)
                if not waiting:
                    del self._waiters[channel]

    def leave(self, channel: str) -> None:
        if self._joined[channel] <= 0:
            return
        self._joined[channel] -= 1
        if not self._joined[channel]:
            del self._joined[channel]
        self._unwant(channel)
        self._stop_if_idle()

    @property
    def following(self) -> int:
        """How many channels this node subscribes to (a pattern counts as one)."""
        return len(self._wanted) + (1 if self._everything else 0)

    @property
    def healthy(self) -> bool:
        """True when nothing listens here (publishing needs no subscription) or the
        subscription is alive."""
        return self._subscriber is None or self._subscribed

    # --- what the node follows

    def _want(self, channel: str) -> None:
        self._wanted[channel] += 1
        if self._wanted[channel] == 1:
            self._command("SUBSCRIBE", channel)

    def _unwant(self, channel: str) -> None:
        self._wanted[channel] -= 1
        if self._wanted[channel] <= 0:
            del self._wanted[channel]
            self._confirmed.discard(channel)
            self._command("UNSUBSCRIBE", channel)

    def _command(self, command: str, channel: str) -> None:
        """Queues a command for the live connection; with none, the next connection
        subscribes to the whole state anyway."""
        if self._commands is None:
            return
        if command == "UNSUBSCRIBE":
            self._unsubscribing[channel] += 1
        self._commands.put_nowait((command, channel))

    def _start(self) -> None:
        if self._subscriber is None:
            self._subscriber = asyncio.create_task(self._subscribe_forever())

    def _stop_if_idle(self) -> None:
        if (not self._everything and not self._selective and not self._wanted
                and self._subscriber is not None):
            self._subscriber.cancel()
            self._subscriber, self._subscribed = None, False

    # --- the subscription connection

    def _subscription_client(self) -> Redis:
        # Its own one-connection pool without silent retries: a lost subscription must
        # surface here, so that `healthy` tells the truth and we resubscribe ourselves.
        source = self._redis.connection_pool
        # The connection's own health check would read a PING reply concurrently with
        # the reader: the writer pings instead (`PING_EVERY`), and the reader hears pongs.
        kwargs = {k: v for k, v in source.connection_kwargs.items()
                  if k not in ("retry", "client_name", "health_check_interval")}
        pool = ConnectionPool(
            connection_class=source.connection_class, max_connections=1,
            retry=Retry(NoBackoff(), 0), client_name=self._client_name, **kwargs)
        return Redis(connection_pool=pool)

    async def _subscribe_forever(self) -> None:
        delay = self._backoff
        while True:
            client = self._subscription_client()
            pubsub = client.pubsub()
            writer: asyncio.Task[None] | None = None
            try:
                awaited = await self._subscribe_all(pubsub)
                writer = asyncio.create_task(self._write(pubsub))
                if not awaited:
                    self._subscribed, delay = True, self._backoff
                while True:
                    response = await pubsub.parse_response(block=False, timeout=PING_EVERY * 2)
                    if response is None:  # not even the pong of our ping: a dead peer
                        raise ConnectionError("no answer from Redis")
                    if self._on_response(response, awaited):
                        self._subscribed, delay = True, self._backoff
                        log.info("realtime bus subscribed",
                                 extra={"fields": {"channels": self.following}})
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("realtime bus subscription lost; resubscribing",
                            extra={"fields": {"error": repr(exc)[:200], "retry_in": delay}})
            finally:
                self._subscribed, self._commands = False, None
                self._confirmed.clear()
                self._unsubscribing.clear()
                if writer is not None:
                    writer.cancel()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis
                with contextlib.suppress(Exception):
                    await client.aclose(close_connection_pool=True)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self._max_backoff)

    async def _subscribe_all(self, pubsub: PubSub) -> set[str]:
        """Subscribes a fresh connection to everything followed now; returns the Redis
        channels whose confirmations make it healthy. Later changes queue behind it."""
        self._commands = asyncio.Queue()
        self._confirmed.clear()
        self._unsubscribing.clear()
        channels = [self._prefix + channel for channel in self._wanted]
        awaited = set(channels)
        await pubsub.connect()  # type: ignore[no-untyped-call]  # unannotated in redis
        if self._everything:
            awaited.add(self._prefix + "*")
            await pubsub.execute_command("PSUBSCRIBE", self._prefix + "*")
        for start in range(0, len(channels), BATCH):
            await pubsub.execute_command("SUBSCRIBE", *channels[start:start + BATCH])
        return awaited

    async def _write(self, pubsub: PubSub) -> None:
        assert self._commands is not None
        commands = self._commands
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for runs the get as a task of its
            # own and, cancelled, waits for that task, which a loop shutting down may never
            # run again (the writer then hangs its owner's shutdown).
            try:
                async with asyncio.timeout(PING_EVERY):
                    command, channel = await commands.get()
            except TimeoutError:
                command, channel = "PING", ""
            batch = [self._prefix + channel] if channel else []
            while not commands.empty() and len(batch) < BATCH:
                if commands._queue[0][0] != command:  # type: ignore[attr-defined]
                    break
                batch.append(self._prefix + commands.get_nowait()[1])
            try:
                await pubsub.execute_command(command, *batch)
            except Exception as exc:
                # The reader sees the connection die and resubscribes everything.
                log.warning("realtime bus command failed",
                            extra={"fields": {"error": repr(exc)[:200]}})
                if pubsub.connection is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.connection.disconnect()
                return

    def _on_response(self, response: Any, awaited: set[str]) -> bool:
        """Handles one pub/sub frame; True when it completed the initial subscription."""
        kind = _text(response[0])
        if kind == "message":
            self._deliver(_text(response[1]), response[2], everything=False)
        elif kind == "pmessage":
            self._deliver(_text(response[2]), response[3], everything=True)
        elif kind in ("subscribe", "psubscribe"):
            name = _text(response[1])
            channel = name.removeprefix(self._prefix)
            if kind == "subscribe" and not self._unsubscribing[channel] and (
                    channel in self._wanted):
                self._confirmed.add(channel)
                for waiter in self._waiters.pop(channel, []):
                    if not waiter.done():
                        waiter.set_result(None)
            if name in awaited:
                awaited.discard(name)
                return not awaited
        elif kind == "unsubscribe":
            channel = _text(response[1]).removeprefix(self._prefix)
            if self._unsubscribing[channel] > 0:
                self._unsubscribing[channel] -= 1
                if not self._unsubscribing[channel]:
                    del self._unsubscribing[channel]
        return False

    def _deliver(self, redis_channel: str, raw: bytes | str, everything: bool) -> None:
        try:
            decoded = json.loads(raw)
            channel, data = str(decoded["channel"]), decoded["data"]
            traceparent = decoded.get("traceparent")
            message = BusMessage(channel, data,
                                 traceparent if isinstance(traceparent, str) else None)
        except (ValueError, KeyError, TypeError):
            log.warning("dropped a malformed realtime bus message")
            return
        # `<prefix>*` also matches a longer prefix (`atelier:rt:staging:`): another
        # deployment's traffic, which must not be delivered here under its inner name.
        if redis_channel != self._prefix + message.channel or not isinstance(message.data, dict):
            return
        if everything:
            targets = list(self._everything)
        else:
            joined = channel in self._joined
            targets = [queue for queue, named in self._selective.items()
                       if joined or channel in named]
        for queue in targets:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(message)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
