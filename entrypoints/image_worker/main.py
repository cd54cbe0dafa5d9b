"""`atelier worker`: the image worker as its own process (what the ECS service runs)."""

import asyncio
import logging
import signal
from typing import Any

from entrypoints.image_worker.container import WorkerContainer
from entrypoints.image_worker.worker import ImageWorker
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.lifespan import running
from entrypoints.wiring.settings import Settings
from entrypoints.wiring.tracing import install_tracing

log = logging.getLogger("atelier.worker")

STUCK_REPORT_SECONDS = 10.0


def _await_chain(task: "asyncio.Task[object]") -> str:
    """Where a task waits, outermost first (Task.get_stack shows one frame only)."""
    places: list[str] = []
    step: Any = task.get_coro()
    while step is not None:
        frame = getattr(step, "cr_frame", None) or getattr(step, "gi_frame", None) \
            or getattr(step, "ag_frame", None)
        if frame is not None:
            places.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        step = getattr(step, "cr_await", None) or getattr(step, "gi_yieldfrom", None) \
            or getattr(step, "ag_await", None)
    return " <- ".join(reversed(places)) or repr(task)


def _report_stuck() -> None:
    """A drain that outlives STUCK_REPORT_SECONDS says what it is waiting for."""
    for task in asyncio.all_tasks():
        log.warning("still stopping: task %s waits at %s", task.get_name(), _await_chain(task))


async def run_worker(settings: Settings) -> int:
    """Runs until SIGTERM or SIGINT, then stops receiving, finishes in-flight jobs, exits 0."""
    install_tracing(settings, "atelier-worker")
    container = WorkerContainer(infrastructure=Infrastructure(settings=settings))
    async with running(container) as resolved:
        worker: ImageWorker = resolved.value("worker")
        loop = asyncio.get_running_loop()

        def stop() -> None:
            worker.stop()
            loop.call_later(STUCK_REPORT_SECONDS, _report_stuck)

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop)
        log.info("image worker started (concurrency %d)", settings.worker_concurrency)
        await worker.run()
    return 0
