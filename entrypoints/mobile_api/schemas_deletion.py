"""Bodies of account deletion (DELETE /me)."""

from typing import Annotated, Literal

import msgspec


class DeleteAccountRequest(msgspec.Struct):
    """A member's password; a guest sends no body (or `{}`)."""

    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None


class DeletionView(msgspec.Struct):
    """The account is gone; what lives outside the database follows shortly."""

    status: Literal["deleted"] = "deleted"
