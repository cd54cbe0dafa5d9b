"""A real server in a thread of its own, for synchronous clients such as schemathesis."""

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.server import serving


@contextmanager
def serving_in_thread(build_app: Callable[[], Any]) -> Iterator[str]:
    """`build_app` runs inside the server's own event loop (async resources bind to it)."""
    ready: asyncio.Future[str] | None = None
    base_url: list[str] = []
    started, stop = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    async def main() -> None:
        try:
            async with serving(build_app()) as url:
                base_url.append(url)
                started.set()
                while not stop.is_set():
                    await asyncio.sleep(0.05)
        except BaseException as exc:  # surfaced to the caller below
            failure.append(exc)
            started.set()

    del ready
    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    started.wait(60)
    if failure:
        raise failure[0]
    try:
        yield base_url[0]
    finally:
        stop.set()
        thread.join(30)
