"""On ECS behind an ALB: the node drains when its own target starts draining.

ECS deregisters a stopping task's target first and sends SIGTERM only once the target
group's deregistration delay is over, when the ALB has already cut every socket still open
(all at once, no 1012). So a node whose `gateway_target_group_arn` is set asks the balancer
about its target every `gateway_target_health_poll_seconds`, and when the target is
`draining` (or gone, having been registered) starts the same paced drain SIGTERM starts,
while the ALB still carries the sockets. An error or a target not registered yet never
drains: errors are logged and the questions go on, further apart; SIGTERM still drains.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from application.ports.load_balancer import DRAINING, TargetHealth

log = logging.getLogger("atelier.gateway")

MAX_ERROR_WAIT = 30.0  # errors in a row: the next question waits twice as long, up to this


async def drain_when_deregistered(
    target: TargetHealth, drain: Callable[[], Awaitable[None]], every: float,
    max_error_wait: float = MAX_ERROR_WAIT,
) -> None:
    """Asks about the target every `every` seconds until it is `draining`, or not registered
    any more after having been seen registered; then `drain()`, once."""
    registered, wait = False, every
    while True:
        try:
            state = await target.state()
        except Exception as error:
            wait = min(max_error_wait, wait * 2)
            log.warning("target health unknown; asking again later", extra={"fields": {
                "error": f"{type(error).__name__}: {error}", "retry_seconds": wait}})
            await asyncio.sleep(wait)
            continue
        wait = every
        if state == DRAINING or (state is None and registered):
            log.info("target deregistered from the load balancer: draining",
                     extra={"fields": {"state": state or "not registered"}})
            await drain()
            return
        if state is not None and not registered:
            registered = True
            log.info("target registered with the load balancer", extra={"fields": {
                "state": state}})
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def watching_target(
    target: TargetHealth | None, drain: Callable[[], Awaitable[None]], every: float
) -> AsyncIterator[None]:
    """`drain_when_deregistered` in the background for the life of the block (nothing when
    `target` is None)."""
    if target is None:
        yield
        return
    task = asyncio.create_task(drain_when_deregistered(target, drain, every))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
