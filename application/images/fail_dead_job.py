from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory

GAVE_UP = "generation kept failing; gave up"


class FailDeadJob:
    """A job whose message reached the dead-letter queue is marked failed (once)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory, self._clock = uow_factory, clock

    async def __call__(self, image_id: str) -> bool:
        """True when this call marked the job failed."""
        async with self._uow_factory() as uow:
            job = await uow.images.get_for_update(image_id)
            if job is None or job.is_finished:
                return False
            job.fail(GAVE_UP, self._clock())
            await uow.images.update(job)
            await uow.commit()
        return True
