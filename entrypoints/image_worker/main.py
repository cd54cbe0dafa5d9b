"""`atelier worker`: the image worker as its own process (what the ECS service runs)."""

import asyncio
import logging
import signal

from entrypoints.common.di import resolve
from entrypoints.common.settings import Settings
from entrypoints.image_worker.container import WorkerContainer
from entrypoints.image_worker.worker import ImageWorker

log = logging.getLogger("atelier.worker")


async def run_worker(settings: Settings) -> int:
    """Runs until SIGTERM or SIGINT, then stops receiving, finishes in-flight jobs, exits 0."""
    container = WorkerContainer(settings=settings)
    container.check_dependencies()
    await container.init_resources()
    try:
        worker: ImageWorker = await resolve(container.worker)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        log.info("image worker started (concurrency %d)", settings.worker_concurrency)
        await worker.run()
    finally:
        await container.shutdown_resources()
    return 0
