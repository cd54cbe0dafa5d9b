"""The daily image quota: each image costs money, so each user gets so many a UTC day."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from domain.images.errors import DailyQuotaExceeded


def day_start(now: datetime) -> datetime:
    """Midnight UTC that began the current day (`now` is timezone-aware UTC)."""
    return datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)


def seconds_until_tomorrow(now: datetime) -> float:
    return (day_start(now) + timedelta(days=1) - now).total_seconds()


@dataclass(frozen=True)
class DailyQuota:
    """Images a user may request per UTC day; guests get fewer than members."""

    guest: int = 10
    member: int = 50

    def limit_for(self, is_guest: bool) -> int:
        return self.guest if is_guest else self.member

    def check(self, is_guest: bool, used_today: int, now: datetime) -> None:
        """Raises DailyQuotaExceeded (retry after midnight UTC) when the day's quota is used."""
        if used_today >= self.limit_for(is_guest):
            raise DailyQuotaExceeded(seconds_until_tomorrow(now))
