"""Whether someone signed in through the identity provider is still an admin there."""

from typing import Protocol


class AdminDirectory(Protocol):
    async def is_admin(self, subject: str) -> bool:
        """True while the login `subject` exists, is enabled and is in the admins group.
        Raises when the directory cannot be asked (the caller decides what that means)."""
        ...
