from typing import Protocol


class LoginDeletion(Protocol):
    """Removes a user from the identity provider (Cognito, or the local provider)."""

    async def delete_login(self, subject: str) -> None:
        """Deletes the provider's user with this subject (its password, codes, linked
        logins); a subject the provider does not know is already deleted, which is fine."""
        ...
