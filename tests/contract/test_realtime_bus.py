"""The RealtimeBus contract, run against the in-memory bus and the Redis bus (real Redis).

A listener is one `listen()` iteration: it hears every message published after it started,
on every channel, in publishing order. Each Redis test gets its own channel prefix: Redis
pub/sub ignores the database number, so a shared prefix would hear other tests' messages.
"""

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio

from adapters.memory.bus import InMemoryRealtimeBus
from adapters.redis.bus import RedisRealtimeBus
from application.ports.messaging import BusMessage, RealtimeBus

WAIT = 2.0
QUIET = 0.2
"""How long "nothing arrives" is watched for: Redis delivers on loopback in well under 10 ms."""

NewBus = Callable[[], RealtimeBus]


class Listener:
    """One `listen()` iteration, started (subscribed) before the test publishes."""

    def __init__(self, bus: RealtimeBus, channels: tuple[str, ...] | None = None) -> None:
        self._bus = bus
        self._messages = bus.listen(channels)
        self._pending: asyncio.Future[BusMessage] | None = None

    async def start(self) -> "Listener":
        self._pending = asyncio.ensure_future(anext(self._messages))
        await asyncio.sleep(0)  # the generator runs up to its first wait: it listens now
        deadline = time.monotonic() + WAIT
        while not self._bus.healthy:  # the Redis bus: until its subscription is confirmed
            assert time.monotonic() < deadline, "the bus never subscribed"
            await asyncio.sleep(0.005)
        return self

    async def next(self) -> BusMessage:
        assert self._pending is not None
        message = await asyncio.wait_for(asyncio.shield(self._pending), WAIT)
        self._pending = asyncio.ensure_future(anext(self._messages))
        return message

    async def receive(self, count: int) -> list[tuple[str, dict[str, Any]]]:
        return [(m.channel, m.data) for m in [await self.next() for _ in range(count)]]

    async def hears_nothing(self) -> bool:
        assert self._pending is not None
        done, _ = await asyncio.wait({self._pending}, timeout=QUIET)
        return not done

    async def ended(self) -> bool:
        try:
            await asyncio.wait_for(anext(self._messages), QUIET)
        except StopAsyncIteration:
            return True
        return False

    async def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await self._pending
        await self._messages.aclose()  # type: ignore[attr-defined]


@pytest.fixture(params=["memory", "redis"])
def new_bus(request: pytest.FixtureRequest) -> NewBus:
    """Makes buses for one test; two buses made here are two separate deployments."""
    if request.param == "memory":
        return InMemoryRealtimeBus
    client: redis.asyncio.Redis = request.getfixturevalue("redis_client")

    def make() -> RealtimeBus:
        return RedisRealtimeBus(client, prefix=f"atelier:test:{secrets.token_hex(6)}:")

    return make


@pytest.fixture
async def bus(new_bus: NewBus) -> RealtimeBus:
    return new_bus()


@pytest.fixture
async def listeners(bus: RealtimeBus) -> AsyncIterator[Callable[[], Any]]:
    """Starts listeners on `bus`, all closed after the test."""
    started: list[Listener] = []

    async def listen() -> Listener:
        started.append(await Listener(bus).start())
        return started[-1]

    yield listen
    for listener in started:
        await listener.close()


async def test_a_listener_hears_what_is_published_after_it_started_in_order(
    bus: RealtimeBus, listeners: Callable[[], Any]
) -> None:
    listener = await listeners()
    sent = [("user:ada", {"n": n}) for n in range(50)]
    for channel, data in sent:
        await bus.publish(channel, data)
    assert await listener.receive(50) == sent
    assert await listener.hears_nothing()


async def test_every_listener_hears_every_message(
    bus: RealtimeBus, listeners: Callable[[], Any]
) -> None:
    first, second = await listeners(), await listeners()
    await bus.publish("broadcast", {"type": "maintenance", "minutes": 5})
    await bus.publish("user:ada", {"type": "image.ready", "id": "i1"})
    expected = [("broadcast", {"type": "maintenance", "minutes": 5}),
                ("user:ada", {"type": "image.ready", "id": "i1"})]
    assert await first.receive(2) == expected
    assert await second.receive(2) == expected


async def test_nothing_published_before_a_listener_started_reaches_it(
    bus: RealtimeBus, listeners: Callable[[], Any]
) -> None:
    early = await listeners()
    await bus.publish("user:ada", {"n": 1})
    assert await early.receive(1) == [("user:ada", {"n": 1})]
    late = await listeners()
    await bus.publish("user:ada", {"n": 2})
    assert await late.receive(1) == [("user:ada", {"n": 2})]
    assert await early.receive(1) == [("user:ada", {"n": 2})]


async def test_each_message_keeps_its_own_channel(
    bus: RealtimeBus, listeners: Callable[[], Any]
) -> None:
    listener = await listeners()
    for channel in ("user:ada", "user:bob", "user:ada:extra", "internal:auth", "broadcast"):
        await bus.publish(channel, {"for": channel})
    received = await listener.receive(5)
    assert all(data == {"for": channel} for channel, data in received)
    assert [channel for channel, _ in received] == [
        "user:ada", "user:bob", "user:ada:extra", "internal:auth", "broadcast"]


async def test_another_deployment_hears_nothing_of_this_one(
    new_bus: NewBus, bus: RealtimeBus, listeners: Callable[[], Any]
) -> None:
    here = await listeners()
    other_bus = new_bus()
    elsewhere = await Listener(other_bus).start()
    try:
        await other_bus.publish("broadcast", {"from": "elsewhere"})
        await bus.publish("broadcast", {"from": "here"})
        assert await here.receive(1) == [("broadcast", {"from": "here"})]
        assert await elsewhere.receive(1) == [("broadcast", {"from": "elsewhere"})]
        assert await here.hears_nothing() and await elsewhere.hears_nothing()
    finally:
        await elsewhere.close()


async def test_a_closed_listener_stops_and_the_others_go_on(
    bus: RealtimeBus, listeners: Callable[[], Any]
) -> None:
    staying, leaving = await listeners(), await listeners()
    await bus.publish("user:ada", {"n": 1})
    assert await leaving.receive(1) == [("user:ada", {"n": 1})]
    await leaving.close()
    await bus.publish("user:ada", {"n": 2})
    assert await staying.receive(2) == [("user:ada", {"n": 1}), ("user:ada", {"n": 2})]
    assert await leaving.ended()
    assert bus.healthy


async def test_a_listener_can_come_back_after_every_listener_left(
    bus: RealtimeBus, listeners: Callable[[], Any]
) -> None:
    first = await Listener(bus).start()
    await first.close()
    await bus.publish("user:ada", {"n": "while nobody listens"})
    again = await listeners()
    await bus.publish("user:ada", {"n": "back"})
    assert await again.receive(1) == [("user:ada", {"n": "back"})]
    assert await again.hears_nothing()


async def test_json_data_arrives_exactly_as_sent(
    bus: RealtimeBus, listeners: Callable[[], Any]
) -> None:
    listener = await listeners()
    data = {
        "text": "Ça marche — 画像ができました 🎨 \u2028 \"quoted\" \\ back",
        "nested": {"list": [1, -2.5, None, True, False, "x", [], {}], "deeper": {"a": {"b": [{}]}}},
        "big": 2**53, "zero": 0, "empty": "", "ключ": "значение",
    }
    await bus.publish("user:ada", data)
    [(channel, received)] = await listener.receive(1)
    assert channel == "user:ada"
    assert received == data
    assert json.dumps(received, sort_keys=True) == json.dumps(data, sort_keys=True)


async def test_a_listener_gets_what_was_published_not_what_the_publisher_did_next(
    bus: RealtimeBus, listeners: Callable[[], Any]
) -> None:
    """A bus message is a value: what the publisher does with its dict afterwards never
    changes what a listener receives (over Redis it cannot)."""
    listener = await listeners()
    data: dict[str, Any] = {"n": 1, "tags": ["a"]}
    await bus.publish("user:ada", data)
    data["n"] = 2
    data["tags"].append("b")
    assert await listener.receive(1) == [("user:ada", {"n": 1, "tags": ["a"]})]


async def test_data_that_is_not_json_is_refused_at_publish(bus: RealtimeBus) -> None:
    """Every bus carries JSON: what would not survive Redis fails on every bus, at once."""
    with pytest.raises(TypeError):
        await bus.publish("user:ada", {"at": datetime(2026, 1, 1, tzinfo=UTC)})


# --- Redis only ---------------------------------------------------------------------------

async def test_a_deployment_whose_prefix_extends_this_one_is_not_heard(
    redis_client: redis.asyncio.Redis,
) -> None:
    """`atelier:rt:` and `atelier:rt:staging:` on one Redis: each hears only its own."""
    base = f"atelier:test:{secrets.token_hex(6)}:"
    production = RedisRealtimeBus(redis_client, prefix=base)
    staging = RedisRealtimeBus(redis_client, prefix=base + "staging:")
    heard = await Listener(production).start()
    try:
        await staging.publish("broadcast", {"from": "staging"})
        await production.publish("broadcast", {"from": "production"})
        assert await heard.receive(1) == [("broadcast", {"from": "production"})]
        assert await heard.hears_nothing()
    finally:
        await heard.close()


async def test_the_node_keeps_one_subscription_and_drops_it_with_its_last_listener(
    redis_client: redis.asyncio.Redis,
) -> None:
    prefix = f"atelier:test:{secrets.token_hex(6)}:"
    bus = RedisRealtimeBus(redis_client, prefix=prefix)
    started = [await Listener(bus).start() for _ in range(3)]
    # PUBLISH answers how many subscriptions got the message: one per node, not per listener.
    assert await redis_client.publish(prefix + "probe", "{}") == 1
    for listener in started:
        await listener.close()
    deadline = time.monotonic() + WAIT
    while await redis_client.publish(prefix + "probe", "{}") != 0:
        assert time.monotonic() < deadline, "the subscription outlived its last listener"
        await asyncio.sleep(0.01)
    assert bus.healthy  # nothing listens: publishing needs no subscription


async def test_a_malformed_message_on_the_channel_is_dropped_and_the_next_arrives(
    redis_client: redis.asyncio.Redis,
) -> None:
    prefix = f"atelier:test:{secrets.token_hex(6)}:"
    bus = RedisRealtimeBus(redis_client, prefix=prefix)
    listener = await Listener(bus).start()
    try:
        for junk in ("not json", "[]", '{"channel": "x"}', '{"channel": "x", "data": [1]}'):
            await redis_client.publish(prefix + "x", junk)
        await bus.publish("user:ada", {"n": 1})
        assert await listener.receive(1) == [("user:ada", {"n": 1})]
        assert bus.healthy
    finally:
        await listener.close()


async def test_the_trace_context_travels_beside_the_data(
    bus: RealtimeBus, listeners: Callable[[], Any]
) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    listener = await listeners()
    await bus.publish("user:ada", {"type": "image.ready", "id": "i1"}, traceparent)
    await bus.publish("user:ada", {"type": "image.ready", "id": "i2"})
    traced, untraced = await listener.next(), await listener.next()
    assert (traced.data, traced.traceparent) == ({"type": "image.ready", "id": "i1"}, traceparent)
    assert (untraced.data, untraced.traceparent) == ({"type": "image.ready", "id": "i2"}, None)


# --- following channels: a node receives only what its sockets need ----------------------

async def test_a_listener_on_named_channels_hears_those_and_the_joined_ones_only(
    bus: RealtimeBus,
) -> None:
    node: Any = bus
    listener = await Listener(bus, ("broadcast", "internal:keys")).start()
    everything = await Listener(bus).start()
    try:
        await node.join("user:ada")
        for channel in ("user:bob", "user:ada", "internal:auth", "broadcast", "internal:keys"):
            await bus.publish(channel, {"for": channel})
        assert [c for c, _ in await listener.receive(3)] == [
            "user:ada", "broadcast", "internal:keys"]
        assert await listener.hears_nothing()
        assert len(await everything.receive(5)) == 5  # a listener on every channel hears all
    finally:
        await listener.close()
        await everything.close()


async def test_a_joined_channel_is_followed_until_its_last_join_is_left(
    bus: RealtimeBus,
) -> None:
    node: Any = bus
    listener = await Listener(bus, ("broadcast",)).start()
    try:
        await node.join("user:ada")
        await node.join("user:ada")  # two sockets of one user
        node.leave("user:ada")
        await bus.publish("user:ada", {"n": 1})
        assert await listener.receive(1) == [("user:ada", {"n": 1})]
        node.leave("user:ada")
        await asyncio.sleep(0.05)  # the UNSUBSCRIBE is on its way
        await bus.publish("user:ada", {"n": 2})
        await bus.publish("broadcast", {"n": 3})
        assert await listener.receive(1) == [("broadcast", {"n": 3})]
        assert await listener.hears_nothing()
    finally:
        await listener.close()


async def test_a_message_published_as_soon_as_join_returns_is_heard(bus: RealtimeBus) -> None:
    """`join` returns once the subscription is in place: the gateway joins before it
    completes a handshake, so nothing published after the socket opened is lost."""
    node: Any = bus
    listener = await Listener(bus, ("broadcast",)).start()
    try:
        for n in range(20):
            await node.join(f"user:u{n}")
            await bus.publish(f"user:u{n}", {"n": n})
        assert await listener.receive(20) == [(f"user:u{n}", {"n": n}) for n in range(20)]
    finally:
        await listener.close()


def envelope(channel: str) -> str:
    return json.dumps({"channel": channel, "data": {}})


def redis_node(client: redis.asyncio.Redis, prefix: str) -> RedisRealtimeBus:
    """One gateway node: its own subscription connection, named so a test can find it."""
    return RedisRealtimeBus(client, prefix=prefix, backoff=0.05,
                            client_name=f"atelier-test-node-{secrets.token_hex(4)}")


async def test_redis_sends_a_user_s_messages_only_to_the_node_holding_that_user(
    redis_client: redis.asyncio.Redis,
) -> None:
    prefix = f"atelier:test:{secrets.token_hex(6)}:"
    first, second = redis_node(redis_client, prefix), redis_node(redis_client, prefix)
    node_channels = ("broadcast", "internal:keys", "internal:auth")
    on_first = await Listener(first, node_channels).start()
    on_second = await Listener(second, node_channels).start()
    try:
        await first.join("user:ada")
        await second.join("user:bob")
        # PUBLISH answers how many subscriptions Redis sent the message to.
        assert await redis_client.publish(prefix + "user:ada", envelope("user:ada")) == 1
        assert await redis_client.publish(prefix + "user:bob", envelope("user:bob")) == 1
        assert await redis_client.publish(prefix + "user:cy", envelope("user:cy")) == 0
        assert await on_first.receive(1) == [("user:ada", {})]
        assert await on_second.receive(1) == [("user:bob", {})]
        assert await on_first.hears_nothing() and await on_second.hears_nothing()
        for channel in node_channels:
            await first.publish(channel, {"to": "every node"})
            assert await on_first.receive(1) == [(channel, {"to": "every node"})]
            assert await on_second.receive(1) == [(channel, {"to": "every node"})]
        assert not [p for p in await redis_client.pubsub_channels(prefix + "*")
                    if p.decode().removeprefix(prefix) not in (
                        *node_channels, "user:ada", "user:bob")]
    finally:
        await on_first.close()
        await on_second.close()


async def test_after_its_connection_is_killed_a_node_resubscribes_everything_it_follows(
    redis_client: redis.asyncio.Redis,
) -> None:
    prefix = f"atelier:test:{secrets.token_hex(6)}:"
    node = redis_node(redis_client, prefix)
    listener = await Listener(node, ("broadcast",)).start()
    try:
        for n in range(3000):  # more than one SUBSCRIBE batch
            await node.join(f"user:u{n}")
        name = node._client_name  # the test finds its own connection
        [mine] = [c for c in await redis_client.client_list(_type="pubsub")
                  if c.get("name") == name]
        assert int(mine["sub"]) == 3001
        await redis_client.execute_command("CLIENT", "KILL", "ID", mine["id"])
        deadline = time.monotonic() + WAIT
        while node.healthy:  # it notices
            assert time.monotonic() < deadline, "the node never noticed the kill"
            await asyncio.sleep(0.005)
        while not node.healthy:  # and comes back
            assert time.monotonic() < deadline + WAIT, "the node never resubscribed"
            await asyncio.sleep(0.005)
        [again] = [c for c in await redis_client.client_list(_type="pubsub")
                   if c.get("name") == name]
        assert again["id"] != mine["id"] and int(again["sub"]) == 3001
        await node.publish("user:u2999", {"n": 1})
        await node.publish("broadcast", {"n": 2})
        assert await listener.receive(2) == [("user:u2999", {"n": 1}), ("broadcast", {"n": 2})]
        await node.join("user:late")  # joins after the reconnect go out too
        await node.publish("user:late", {"n": 3})
        assert await listener.receive(1) == [("user:late", {"n": 3})]
    finally:
        await listener.close()
