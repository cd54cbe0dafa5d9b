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


@dataclass
class LocalCode:
    """A password-reset ("reset") or e-mail-change ("email") code of one login; the row
    outlives the code, to hold the per-address sending limits."""

    subject: str
    purpose: str
    code_hash: str | None = None
    new_email: str | None = None
    expires_at: datetime | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    window_started_at: datetime | None = None
    sent_in_window: int = 0


class CredentialStore(Protocol):
    """Each call is its own transaction (the identity provider sits outside the app's UoW)."""

    async def get(self, email: str) -> LocalCredential | None: ...

    async def add(self, credential: LocalCredential) -> None:
        """Raises EmailInUse when the address is taken."""
        ...

    async def update(self, credential: LocalCredential) -> None: ...

    async def take_code_attempt(
        self, email: str, now: datetime, max_attempts: int
    ) -> LocalCredential | None:
        """Counts one attempt at the e-mailed code in one conditional write and returns the
        credential as it stands after it; None when there is no live code or its
        `max_attempts` are used up. However many run at once, at most `max_attempts` win."""
        ...

    async def confirm_with(self, email: str, code_hash: str) -> bool:
        """Marks the address confirmed and the code spent, if `code_hash` is still the code
        (a resend may have replaced it); says whether it did."""
        ...

    # Password-reset and e-mail-change codes.

    async def get_code(self, subject: str, purpose: str) -> LocalCode | None: ...

    async def save_code(self, code: LocalCode) -> None:
        """Writes the code over whatever the login had for that purpose."""
        ...

    async def take_lifecycle_attempt(
        self, subject: str, purpose: str, now: datetime, max_attempts: int
    ) -> LocalCode | None:
        """Counts one attempt at a live code in one conditional write and returns the code
        as it stands after it; None when there is no live code or its attempts are used
        up. However many run at once, at most `max_attempts` win."""
        ...

    async def spend_code(self, subject: str, purpose: str, code_hash: str) -> bool:
        """Clears the code if `code_hash` is still it (single use); says whether it did."""
        ...

    async def change_email(self, email: str, new_email: str) -> None:
        """Moves the login to `new_email`; raises EmailInUse when that is taken."""
        ...

    async def delete_subject(self, subject: str) -> None:
        """Removes the login with this subject and its codes; a missing one is fine."""
        ...
