from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.shared.errors import TooManyRequests

EVERY_SOURCE = "*"
"""The source of the account-wide count: failures from every address together."""


class AccountLocked(TooManyRequests):
    """Too many failed logins; try again later."""

    code = "account_locked"


@dataclass(frozen=True)
class LockoutPolicy:
    """`threshold` failures in a row from one source lock that source out of the account;
    `account_threshold` from all sources together lock the account (a distributed guess)."""

    threshold: int = 5
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    account_threshold: int = 50

    def delay_after(self, failures: int) -> timedelta:
        """Growing delays: base, 2x base, 4x base ... once `threshold` failures in a row."""
        if failures < self.threshold:
            return timedelta(0)
        doublings = min(failures - self.threshold, 30)  # past that, max_delay rules anyway
        grown: timedelta = self.base_delay * (2**doublings)
        return min(grown, self.max_delay)

    def account_wide(self) -> "LockoutPolicy":
        """The same growing delays, counted from every source together."""
        return replace(self, threshold=self.account_threshold)


@dataclass
class LoginAttempts:
    """Failed password logins in a row for one e-mail address (known or not), from one
    source (the client's address) or, as EVERY_SOURCE, from all of them."""

    email: str
    failures: int = 0
    locked_until: datetime | None = None
    source: str = EVERY_SOURCE
    last_failed_at: datetime | None = None
    """When the last failure was counted: maintenance forgets a count once it and its lock
    are old."""

    def check(self, now: datetime) -> None:
        if self.locked_until is not None and now < self.locked_until:
            raise AccountLocked((self.locked_until - now).total_seconds())

    def failed(self, now: datetime, policy: LockoutPolicy) -> None:
        self.failures += 1
        self.last_failed_at = now
        delay = policy.delay_after(self.failures)
        if delay:
            self.locked_until = now + delay

    def succeeded(self) -> None:
        self.failures = 0
        self.locked_until = None


def take_attempt(
    from_source: LoginAttempts, account: LoginAttempts, now: datetime, policy: LockoutPolicy
) -> None:
    """Counts a password check as failed before it runs (a success clears it afterwards), so
    concurrent guesses cannot all slip under the threshold; raises AccountLocked, counting
    nothing, when the source or the whole account is locked out."""
    from_source.check(now)
    account.check(now)
    from_source.failed(now, policy)
    account.failed(now, policy.account_wide())
