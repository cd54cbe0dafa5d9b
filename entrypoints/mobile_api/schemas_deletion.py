"""Bodies of account deletion (DELETE /me)."""

from typing import Annotated, Literal

import msgspec


class DeleteAccountRequest(msgspec.Struct):
    """A member's password; a guest sends no body (or `{}`). An Apple member may add a
    fresh authorization code so the app's Apple authorization is revoked."""

    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None
    apple_authorization_code: Annotated[
        str, msgspec.Meta(min_length=1, max_length=1024,
                          description="A fresh Sign in with Apple authorization code: with "
                                      "it the app's authorization at Apple is revoked too")
    ] | None = None


class DeletionView(msgspec.Struct):
    """The account is gone; what lives outside the database follows shortly."""

    status: Literal["deleted"] = "deleted"
