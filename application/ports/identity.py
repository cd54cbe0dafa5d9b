from typing import Protocol

from domain.shared.errors import Forbidden, InvalidInput, Unauthorized


class InvalidCredentials(Unauthorized):
    """E-mail or password is wrong."""

    code = "invalid_credentials"


class EmailNotConfirmed(Forbidden):
    """Confirm your e-mail address first."""

    code = "email_not_confirmed"


class InvalidConfirmationCode(InvalidInput):
    """The confirmation code is wrong or has expired."""

    code = "invalid_confirmation_code"


class IdentityProvider(Protocol):
    """Who owns an e-mail and password: Cognito in production, a local one by default."""

    async def register(self, email: str, password: str) -> str:
        """Creates the login and sends a 6-digit confirmation code; returns its subject.
        Raises EmailInUse when the provider already knows the address."""
        ...

    async def confirm(self, email: str, code: str) -> str:
        """Confirms the address; returns the subject."""
        ...

    async def resend_code(self, email: str) -> None:
        """Sends a new confirmation code (the previous one stops working) when the address
        is registered and unconfirmed; does nothing otherwise, and says nothing either way."""
        ...

    async def authenticate(self, email: str, password: str) -> str:
        """Returns the subject, or raises InvalidCredentials / EmailNotConfirmed."""
        ...

    async def disable(self, email: str) -> None: ...

    async def enable(self, email: str) -> None: ...
