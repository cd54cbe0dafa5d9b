"""Reference server for the fan-out bench: the `websockets` library with `broadcast()`,
fed by the same Redis channel the gateway listens to. Run as a subprocess by the bench."""

import argparse
import asyncio
import json

import redis.asyncio as redis
from websockets.asyncio.server import ServerConnection, broadcast, serve

CONNECTIONS: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    CONNECTIONS.add(ws)
    try:
        await ws.wait_closed()
    finally:
        CONNECTIONS.discard(ws)


async def main(port: int, redis_url: str, channel: str) -> None:
    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=20,
                     max_size=4096, backlog=4096):
        async for message in pubsub.listen():
            if message["type"] == "message":
                payload = json.loads(message["data"])
                broadcast(CONNECTIONS, json.dumps(payload, separators=(",", ":")))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--channel", required=True)
    args = parser.parse_args()
    asyncio.run(main(args.port, args.redis, args.channel))
