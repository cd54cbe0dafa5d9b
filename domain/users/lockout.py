from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.shared.errors import TooManyRequests


class AccountLocked(TooManyRequests):
    """Too many failed logins; try again later."""

    code = "account_locked"


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 5
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def delay_after(self, failures: int) -> timedelta:
        """Growing delays: base, 2x base, 4x base ... once `threshold` failures in a row."""
        if failures < self.threshold:
            return timedelta(0)
        doublings = min(failures - self.threshold, 30)  # past that, max_delay rules anyway
        grown: timedelta = self.base_delay * (2**doublings)
        return min(grown, self.max_delay)


@dataclass
class LoginAttempts:
    """Failed password logins in a row for one e-mail address (known or not)."""

    email: str
    failures: int = 0
    locked_until: datetime | None = None

    def check(self, now: datetime) -> None:
        if self.locked_until is not None and now < self.locked_until:
            raise AccountLocked((self.locked_until - now).total_seconds())

    def failed(self, now: datetime, policy: LockoutPolicy) -> None:
        self.failures += 1
        delay = policy.delay_after(self.failures)
        if delay:
            self.locked_until = now + delay

    def succeeded(self) -> None:
        self.failures = 0
        self.locked_until = None
