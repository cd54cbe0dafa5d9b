"""The console overview's counts over the in-memory tables."""

from collections import Counter
from datetime import datetime

from adapters.memory.workspace import Workspace
from domain.images.model import ImageStatus
from domain.users.model import UserKind


class InMemoryAdminCounts:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def users_by_kind(self) -> dict[UserKind, int]:
        return dict(Counter(user.kind for user in self._ws.tables.users.values()))

    async def images_by_status(self, since: datetime) -> dict[ImageStatus, int]:
        return dict(Counter(job.status for job in self._ws.tables.images.values()
                            if job.created_at >= since))
