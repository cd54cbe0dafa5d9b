from dataclasses import dataclass, field
from datetime import timedelta

from domain.users.lockout import LockoutPolicy


@dataclass(frozen=True)
class AuthPolicy:
    """Lifetimes and limits of the identity contract (tokens, codes, lock-out), from settings."""

    issuer: str = "http://127.0.0.1:8000"
    access_token_ttl: timedelta = timedelta(hours=1)
    refresh_token_ttl: timedelta = timedelta(days=30)
    reuse_interval: timedelta = timedelta(seconds=10)
    transfer_code_ttl: timedelta = timedelta(hours=24)
    guest_inactivity: timedelta = timedelta(days=90)
    connection_token_ttl: timedelta = timedelta(seconds=60)
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)

    ACCESS_AUDIENCE = "atelier-mobile"
    REALTIME_AUDIENCE = "realtime"
