"""Account deletion in the app: DELETE /me."""

from litestar import Controller, delete
from litestar.di import Provide
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from application.identity.delete_account import DeleteAccount, PasswordRequired
from application.ports.identity import InvalidCredentials
from domain.users.lockout import AccountLocked
from entrypoints.mobile_api.auth import CurrentUser, provide_principal
from entrypoints.mobile_api.openapi import BODY, SIGNED_IN, errors
from entrypoints.mobile_api.schemas_deletion import DeleteAccountRequest, DeletionView
from entrypoints.wiring.di import Injected


class AccountDeletionController(Controller):
    path = "/me"
    tags = ["profile"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"bearer": []}]

    @delete("/", status_code=HTTP_202_ACCEPTED, opt={"limit": "sessions"},
            responses=errors(SIGNED_IN, BODY, PasswordRequired, InvalidCredentials, AccountLocked),
            summary="Delete the account: members confirm with the password, guests need only "
                    "the bearer token")
    async def delete_account(
        self, delete_account: Injected[DeleteAccount], principal: CurrentUser,
        source_ip: Injected[str], data: JSONBody[DeleteAccountRequest | None] = None,
    ) -> DeletionView:
        """Deletes the account with its images, devices and sessions; members confirm with their
        password, a guest's bearer token is enough. Its sockets close with 1008."""
        await delete_account(principal, data.password if data else None, source_ip,
                             data.apple_authorization_code if data else None)
        return DeletionView()
