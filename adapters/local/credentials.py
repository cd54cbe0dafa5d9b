"""What the local identity provider keeps per login (the embedded stand-in for Cognito)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass
class LocalCredential:
    email: str
    subject: str
    password_hash: str
    created_at: datetime
    confirmed: bool = False
    disabled: bool = False
    code_hash: str | None = None
    code_expires_at: datetime | None = None
    code_attempts: int = 0


class CredentialStore(Protocol):
    """Each call is its own transaction (the identity provider sits outside the app's UoW)."""

    async def get(self, email: str) -> LocalCredential | None: ...

    async def add(self, credential: LocalCredential) -> None:
        """Raises EmailInUse when the address is taken."""
        ...

    async def update(self, credential: LocalCredential) -> None: ...
