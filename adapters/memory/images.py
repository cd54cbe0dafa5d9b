import copy
from datetime import datetime

from adapters.memory.database import OutboxRecord
from adapters.memory.workspace import Workspace
from application.ports.images import OutboxMessage
from domain.images.model import ImageJob, ImageStatus
from domain.shared.errors import Conflict, NotFound


class InMemoryImageRepository:
    """Image jobs keyed by id; (user_id, idempotency_key) unique like the SQL table."""

    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def move_owner(self, from_user_id: str, to_user_id: str) -> int:
        images = self._ws.tables.images.values()
        taken = {
            job.idempotency_key for job in images
            if job.user_id == to_user_id and job.idempotency_key is not None
        }
        moved = 0
        for job in images:
            if job.user_id == from_user_id:
                if job.idempotency_key in taken:
                    # The key only deduplicates requests; the target's own use wins.
                    job.idempotency_key = None
                job.user_id = to_user_id
                moved += 1
        return moved

    async def count_for_user(self, user_id: str) -> int:
        return sum(1 for job in self._ws.tables.images.values() if job.user_id == user_id)

    async def get(self, image_id: str) -> ImageJob | None:
        return copy.deepcopy(self._ws.tables.images.get(image_id))

    async def get_for_update(self, image_id: str) -> ImageJob | None:
        return await self.get(image_id)  # memory transactions are serial already

    async def get_by_idempotency_key(self, user_id: str, key: str) -> ImageJob | None:
        for job in self._ws.tables.images.values():
            if job.user_id == user_id and job.idempotency_key == key:
                return copy.deepcopy(job)
        return None

    async def add(self, job: ImageJob) -> None:
        tables = self._ws.tables
        if job.id in tables.images:
            raise Conflict(f"image {job.id} exists")
        if job.user_id not in tables.users:
            raise Conflict("no such user")
        if job.idempotency_key is not None and await self.get_by_idempotency_key(
                job.user_id, job.idempotency_key):
            raise Conflict("idempotency key already used")
        tables.images[job.id] = copy.deepcopy(job)

    async def update(self, job: ImageJob) -> None:
        if job.id not in self._ws.tables.images:
            raise NotFound("image not found")
        self._ws.tables.images[job.id] = copy.deepcopy(job)

    async def count_created_since(self, user_id: str, since: datetime) -> int:
        return sum(
            1 for job in self._ws.tables.images.values()
            if job.user_id == user_id and job.created_at >= since
        )

    async def page_for_user(
        self, user_id: str, limit: int, before: tuple[datetime, str] | None
    ) -> list[ImageJob]:
        jobs = [
            job for job in self._ws.tables.images.values()
            if job.user_id == user_id and job.visible_to_owner
            and (before is None or (job.created_at, job.id) < before)
        ]
        jobs.sort(key=lambda job: (job.created_at, job.id), reverse=True)
        return copy.deepcopy(jobs[:limit])

    async def search(
        self, status: ImageStatus | None, user_id: str | None, limit: int,
        before: tuple[datetime, str] | None,
    ) -> list[ImageJob]:
        jobs = [
            job for job in self._ws.tables.images.values()
            if (status is None or job.status is status)
            and (user_id is None or job.user_id == user_id)
            and (before is None or (job.created_at, job.id) < before)
        ]
        jobs.sort(key=lambda job: (job.created_at, job.id), reverse=True)
        return copy.deepcopy(jobs[:limit])

    async def list_by_status(self, status: ImageStatus, limit: int) -> list[ImageJob]:
        jobs = [job for job in self._ws.tables.images.values() if job.status is status]
        jobs.sort(key=lambda job: (job.updated_at, job.id))
        return copy.deepcopy(jobs[:limit])


class InMemoryOutboxRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def add(self, message: OutboxMessage) -> None:
        if message.id in self._ws.tables.outbox:
            raise Conflict("outbox message exists")
        self._ws.tables.outbox[message.id] = OutboxRecord(copy.deepcopy(message))

    async def claim(self, topics: frozenset[str], limit: int) -> list[OutboxMessage]:
        pending = [
            record for record in self._ws.tables.outbox.values()
            if record.published_at is None and record.message.topic in topics
        ]
        pending.sort(key=lambda record: (record.message.created_at, record.message.id))
        return [
            OutboxMessage(r.message.id, r.message.topic, copy.deepcopy(r.message.payload),
                          r.message.created_at, r.attempts)
            for r in pending[:limit]
        ]

    async def mark_published(self, message_id: str, now: datetime) -> None:
        self._ws.tables.outbox[message_id].published_at = now

    async def record_failure(self, message_id: str) -> None:
        self._ws.tables.outbox[message_id].attempts += 1
