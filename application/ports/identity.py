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


class InvalidCode(InvalidInput):
    """The code is wrong; ask for a new one if it keeps failing."""

    code = "invalid_code"


class CodeExpired(InvalidInput):
    """The code has expired or was tried too often; ask for a new one."""

    code = "code_expired"


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

    # Account lifecycle: password reset, password change, e-mail change.

    async def request_password_reset(self, email: str) -> None:
        """E-mails a 6-digit reset code (24 h, 5 attempts; it replaces any earlier one) when
        the address is a confirmed, enabled login; does the same work and says nothing
        otherwise. At most one code a minute per address, silently."""
        ...

    async def confirm_password_reset(self, email: str, code: str, password: str) -> str:
        """Sets the password if the code is right; returns the subject. Raises InvalidCode,
        or CodeExpired once the code is used up, past its time, or there is none."""
        ...

    async def change_password(self, email: str, current_password: str, password: str) -> None:
        """Raises InvalidCredentials when `current_password` is wrong."""
        ...

    async def request_email_change(self, email: str, new_email: str) -> None:
        """E-mails a 6-digit code to `new_email` (24 h, 5 attempts; it replaces any earlier
        one). Raises EmailInUse when the provider already knows that address."""
        ...

    async def confirm_email_change(self, email: str, code: str) -> str:
        """Moves the login to the address the code was sent to and returns it; raises
        InvalidCode / CodeExpired like confirm_password_reset, EmailInUse if the address
        was taken meanwhile."""
        ...
