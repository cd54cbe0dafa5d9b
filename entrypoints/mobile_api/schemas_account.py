"""Request and response bodies of the account lifecycle routes (reset, change password,
change e-mail)."""

from typing import Annotated, Literal

import msgspec

from entrypoints.http_edge.email_address import parse_email_address
from entrypoints.mobile_api.schemas import AddressedRequest, Email, Password

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=16, description="The mailed code")]
CurrentPassword = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class PasswordResetRequest(AddressedRequest):
    """Asks for a password reset code for this address."""


class PasswordResetAccepted(msgspec.Struct):
    status: Literal["accepted"] = "accepted"


class PasswordResetConfirm(AddressedRequest):
    code: Code
    password: Password


class PasswordSetView(msgspec.Struct):
    status: Literal["password_set"] = "password_set"


class PasswordChange(msgspec.Struct):
    current_password: CurrentPassword
    password: Password


class EmailChange(msgspec.Struct):
    email: Email
    password: CurrentPassword

    def __post_init__(self) -> None:
        self.email = parse_email_address(self.email)


class EmailChangeAccepted(msgspec.Struct):
    status: Literal["code_sent"] = "code_sent"


class EmailChangeConfirm(msgspec.Struct):
    code: Code
