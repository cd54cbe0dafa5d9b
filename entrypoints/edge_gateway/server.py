"""uvicorn for a process that serves the gateway: SIGTERM drains it at a pace.

uvicorn's own SIGTERM closes the listener and sends 1012 to every socket in one loop: a
node of 15,000 sockets sends 15,000 phones to the other nodes within their first backoff
(0-0.5 s), whose accept queues overflow for a minute or more (docs/performance.md, "Reconnect
storm"). Here the first SIGTERM (or SIGINT) only starts the gateway's paced drain: the node
refuses new sockets at once (`/readyz` 503, handshakes 503 `draining` + Retry-After, the
listener still open so a late client gets that answer, not a refused connection), closes
its sockets with 1012 evenly over `drain_seconds`, and only then lets uvicorn shut down.
A second signal closes what is left at once and shuts down; a third is uvicorn's own
forced exit. Whatever hangs after the drain (a Redis that stopped answering), the process
exits within `SHUTDOWN_BOUND` seconds of it. On ECS the drain has usually started before
the signal, when the node's target turned `draining` (target_watch.py): the signal then
waits for that drain instead of starting another.
"""

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
from types import FrameType
from typing import Any

import uvicorn

from entrypoints.edge_gateway.gateway import RUNNING

log = logging.getLogger("atelier.gateway")

SHUTDOWN_BOUND = 40.0
"""Seconds from the end of the drain to the process's exit, at most: uvicorn's graceful
wait (20 s) plus the lifespan's bounded steps; past it the process exits with status 1."""


class GatewayServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain_seconds: float,
                 shutdown_bound: float = SHUTDOWN_BOUND) -> None:
        super().__init__(config)
        self.drain_seconds, self.shutdown_bound = drain_seconds, shutdown_bound
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: concurrent.futures.Future[None] | None = None
        self._watchdog: threading.Timer | None = None

    async def startup(self, sockets: Any = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        loop = self._loop
        if self._drain is None and not self.should_exit and loop is not None and RUNNING:
            self._captured_signals.append(sig)  # uvicorn re-raises it once stopped
            self._drain = asyncio.run_coroutine_threadsafe(self._paced_drain(), loop)
            return
        if self._drain is not None and not self._drain.done():
            log.warning("second signal: closing the remaining sockets now")
            for gateway in list(RUNNING):
                gateway.hurry()
            if sig not in self._captured_signals:
                self._captured_signals.append(sig)
            if not self.should_exit:
                self._stop()
                return
        super().handle_exit(sig, frame)
        self._arm_watchdog()

    async def _paced_drain(self) -> None:
        try:
            await asyncio.gather(*(g.drain(self.drain_seconds) for g in list(RUNNING)))
        except Exception:
            log.exception("paced drain failed; shutting down")
        finally:
            self._stop()

    def _stop(self) -> None:
        self.should_exit = True
        self._arm_watchdog()

    def _arm_watchdog(self) -> None:
        """The last resort: a step of the shutdown that waits forever on something gone
        (and ignores its cancellation) cannot keep a drained node alive."""
        if self._watchdog is None:
            self._watchdog = threading.Timer(self.shutdown_bound, _give_up, (self.shutdown_bound,))
            self._watchdog.daemon = True
            self._watchdog.start()


def _give_up(bound: float) -> None:
    log.error("shutdown did not finish within the bound; exiting",
              extra={"fields": {"seconds": bound}})
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(1)


def serve_draining(config: uvicorn.Config, drain_seconds: float) -> bool:
    """Runs the server until it has stopped; whether it had started."""
    server = GatewayServer(config, drain_seconds)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return server.started
