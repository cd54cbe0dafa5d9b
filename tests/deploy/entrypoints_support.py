"""Running the project's entrypoints as the estate runs them: a free loopback port, the
task definition's command, waiting until the process listens."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

from tests.support.processes import AtelierProcess


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_listening(process: AtelierProcess, port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if not process.alive or time.monotonic() > deadline:
                raise AssertionError(f"not listening:\n{process.output()[-4000:]}") from None
            await asyncio.sleep(0.1)


def container_command(root: Any, service: str) -> list[str]:
    definitions = root.module("compute").local("container_definitions")
    (definition,) = [c for c in json.loads(definitions[service]) if c["name"] == service]
    return list(definition["command"])
