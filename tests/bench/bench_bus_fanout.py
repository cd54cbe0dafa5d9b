"""What a gateway node pays for the bus as nodes multiply, on the real Redis:

- messages per second one node can discard (for users it does not hold) vs deliver (to a
  socket it holds), both through the node's bus listener and hub;
- messages Redis sends each node with PSUBSCRIBE-to-everything vs per-user SUBSCRIBE, for
  users spread evenly over 2 and 3 nodes (plus the bytes Redis wrote to each node's
  subscription connection, from CLIENT LIST `tot-net-out` where Redis reports it).

    uv run python -m tests.bench.bench_bus_fanout [--messages 20000] [--users 2000]

Needs Redis at ATELIER_TEST_REDIS (default redis://127.0.0.1:6379/15).
"""

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import time
from typing import Any

import redis.asyncio as redis

from adapters.redis.bus import RedisRealtimeBus
from entrypoints.edge_gateway.gateway import NODE_CHANNELS
from entrypoints.edge_gateway.hub import Connection, ConnectionHub

REDIS_URL = os.environ.get("ATELIER_TEST_REDIS", "redis://127.0.0.1:6379/15")


async def _sink(_: dict[str, Any]) -> None:
    return None


async def publish_all(client: redis.Redis, prefix: str, channels: list[str]) -> None:
    for start in range(0, len(channels), 500):
        async with client.pipeline(transaction=False) as pipe:
            for channel in channels[start:start + 500]:
                body = json.dumps({"channel": channel, "data": {"type": "image.ready"}})
                pipe.publish(prefix + channel, body)
            await pipe.execute()


async def node_rate(client: redis.Redis, messages: int, held: bool) -> float:
    """Messages/s through one node's listener + hub: all for a held user, or all dropped."""
    prefix = f"atelier:bench:{secrets.token_hex(4)}:"
    bus = RedisRealtimeBus(client, prefix=prefix, client_name=f"bench-{secrets.token_hex(3)}")
    hub = ConnectionHub(1024)
    if held:
        hub.add(Connection(_sink, "k", ("user:held",), 1e12, "held"))
    done = asyncio.Event()
    seen = 0

    async def consume() -> None:
        nonlocal seen
        async for message in bus.listen():  # PSUBSCRIBE: the node hears every user
            frame = json.dumps({"channel": message.channel, "data": message.data},
                               separators=(",", ":"))
            await hub.deliver(message.channel, frame)
            seen += 1
            if seen == messages:
                done.set()

    task = asyncio.create_task(consume())
    while not bus.healthy or bus._subscriber is None:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    channels = ["user:held" if held else f"user:other{n % 1000}" for n in range(messages)]
    started = time.perf_counter()
    await publish_all(client, prefix, channels)
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return messages / elapsed


async def traffic(client: redis.Redis, nodes: int, users: int, messages: int,
                  per_user: bool) -> tuple[list[int], list[int | None]]:
    """Messages (and bytes) Redis sends each node for `messages` spread over `users`."""
    prefix = f"atelier:bench:{secrets.token_hex(4)}:"
    names = [f"bench-node-{secrets.token_hex(3)}" for _ in range(nodes)]
    buses = [RedisRealtimeBus(client, prefix=prefix, client_name=name) for name in names]
    counts = [0] * nodes

    async def consume(index: int) -> None:
        source = buses[index].listen(NODE_CHANNELS if per_user else None)
        async for _ in source:
            counts[index] += 1

    tasks = [asyncio.create_task(consume(i)) for i in range(nodes)]
    await asyncio.sleep(0.05)
    if per_user:
        for n in range(users):
            await buses[n % nodes].join(f"user:u{n}")
    while not all(bus.healthy for bus in buses):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    before = await _net_out(client, names)
    rng = random.Random(7)
    await publish_all(client, prefix, [f"user:u{rng.randrange(users)}" for _ in range(messages)])
    deadline = time.monotonic() + 60
    expected = messages  # per node with PSUBSCRIBE; summed over nodes per user
    while min(counts) * nodes < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # anything more would show up now
    after = await _net_out(client, names)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    bytes_out = [None if after[n] is None or before[n] is None else after[n] - before[n]  # type: ignore[operator]
                 for n in range(nodes)]
    return counts, bytes_out


async def _net_out(client: redis.Redis, names: list[str]) -> list[int | None]:
    listed = {c.get("name"): c for c in await client.client_list(_type="pubsub")}
    return [int(listed[n]["tot-net-out"]) if n in listed and "tot-net-out" in listed[n]
            else None for n in names]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    client = redis.Redis.from_url(REDIS_URL)
    deliver, discard = [], []
    for _ in range(args.rounds):
        discard.append(await node_rate(client, args.messages, held=False))
        deliver.append(await node_rate(client, args.messages, held=True))
    print(f"one node, {args.messages} messages, median of {args.rounds}:")
    print(f"  discard (user not held): {statistics.median(discard):8.0f} msg/s")
    print(f"  deliver (user held):     {statistics.median(deliver):8.0f} msg/s")
    print(f"  discard/deliver: {statistics.median(discard) / statistics.median(deliver):.2f}x")
    for nodes in (2, 3):
        for per_user in (False, True):
            counts, sent = await traffic(client, nodes, args.users, args.messages, per_user)
            mode = "per-user SUBSCRIBE" if per_user else "PSUBSCRIBE-all   "
            print(f"{nodes} nodes, {mode}: messages received per node {counts}, "
                  f"bytes out per node {sent}")
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
