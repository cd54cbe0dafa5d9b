"""What the console's overview page shows, read in one place."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports.census import SocketCensus
from application.ports.clock import Clock
from application.ports.images import ObjectStore
from application.ports.tokens import KeyStore
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.images.model import ImageJob, ImageStatus
from domain.keys.model import SigningKey
from domain.users.model import UserKind

QueueDepth = Callable[[], Awaitable[tuple[int, int] | None]]
"""(jobs waiting, dead letters), or None where the queue cannot tell."""

RECENT = timedelta(hours=24)


@dataclass(frozen=True)
class Overview:
    members: int
    guests: int
    images_last_day: dict[ImageStatus, int]
    queued_jobs: int | None
    dead_letters: int | None
    sockets: int | None
    """Open sockets on every gateway node; None where no census is kept."""
    gateway_nodes: int | None
    keys: list[SigningKey]
    at: datetime


class ShowOverview:
    """Users and guests, images of the last 24 h by status, the job queue, the open
    sockets, the keys."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, keys: KeyStore, depth: QueueDepth, clock: Clock,
        census: SocketCensus | None = None,
    ) -> None:
        self._uow_factory, self._keys, self._depth, self._clock = uow_factory, keys, depth, clock
        self._census = census

    async def __call__(self) -> Overview:
        now = self._clock()
        async with self._uow_factory() as uow:
            users = await uow.counts.users_by_kind()
            images = await uow.counts.images_by_status(now - RECENT)
        depth = await self._depth()
        sockets = await self._census.total() if self._census is not None else None
        ring = await self._keys.load()
        return Overview(
            members=users.get(UserKind.MEMBER, 0), guests=users.get(UserKind.GUEST, 0),
            images_last_day={status: images.get(status, 0) for status in ImageStatus},
            queued_jobs=depth[0] if depth else None, dead_letters=depth[1] if depth else None,
            sockets=sockets[0] if sockets else None,
            gateway_nodes=sockets[1] if sockets else None,
            keys=sorted(ring.keys, key=lambda k: k.created_at, reverse=True), at=now)


class ImageLinks:
    """Short-lived links to stored pictures, for the moderation grid (none for an image
    without a stored picture)."""

    def __init__(self, store: ObjectStore, ttl_seconds: int) -> None:
        self._store, self._ttl = store, ttl_seconds

    async def __call__(self, jobs: Sequence[ImageJob]) -> dict[str, str]:
        return {job.id: await self._store.download_url(job.object_key, self._ttl)
                for job in jobs if job.object_key and job.status is ImageStatus.READY}
