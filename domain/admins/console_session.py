"""A web console sign-in: which admin, since when, last seen when, until when at most."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.admins.model import AdminIdentity


@dataclass(frozen=True)
class ConsoleSessionLimits:
    """A session ends after `idle` without a request, and at `absolute` after sign-in."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


@dataclass
class ConsoleSession:
    """Stored under the SHA-256 of the browser's session id; the id itself is never kept."""

    id_sha256: str
    admin: AdminIdentity
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    @classmethod
    def start(
        cls, id_sha256: str, admin: AdminIdentity, now: datetime, limits: ConsoleSessionLimits
    ) -> "ConsoleSession":
        return cls(id_sha256, admin, now, now, now + limits.absolute)

    def live(self, now: datetime, limits: ConsoleSessionLimits) -> bool:
        return now < self.expires_at and now < self.last_seen_at + limits.idle
