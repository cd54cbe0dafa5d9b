from litestar import Controller, delete, get, patch, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from entrypoints.mobile_api.auth import (
    CurrentUser,
    MaybeUser,
    Services,
    provide_optional_principal,
    provide_principal,
)
from entrypoints.mobile_api.openapi import errors
from entrypoints.mobile_api.schemas import (
    ConfirmedView,
    ConfirmRequest,
    CredentialsRequest,
    DevicesView,
    DeviceView,
    GuestRequest,
    LoginRequest,
    ProfilePatch,
    RefreshRequest,
    RegisterRequest,
    ResendCodeRequest,
    ResendCodeView,
    SessionView,
    UserView,
)

AUTHED = {"principal": Provide(provide_principal)}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


class AccountsController(Controller):
    path = "/"
    tags = ["identity"]

    @post("/guests", status_code=HTTP_201_CREATED, opt={"limit": "guests"},
          responses=errors(422, 429), summary="Create a guest bound to this device")
    async def create_guest(self, data: JSONBody[GuestRequest], services: Services) -> SessionView:
        return SessionView.of(await services.create_guest(data.device_id, data.platform))

    @post("/accounts", status_code=HTTP_201_CREATED, opt={"limit": "sessions"},
          dependencies={"principal": Provide(provide_optional_principal)},
          responses=errors(401, 409, 422, 429), security=BEARER,
          summary="Register; with a guest's bearer token, upgrade that guest in place")
    async def register(
        self, data: JSONBody[RegisterRequest], services: Services, principal: MaybeUser
    ) -> SessionView:
        result = await services.register(
            data.email, data.password, data.device_id, data.platform, principal)
        return SessionView.of(result)

    @post("/accounts/confirm", status_code=HTTP_200_OK, opt={"limit": "sessions"},
          responses=errors(422, 429), summary="Confirm the e-mail address with its code")
    async def confirm(self, data: JSONBody[ConfirmRequest], services: Services) -> ConfirmedView:
        user = await services.confirm_email(data.email, data.code)
        return ConfirmedView(email=user.email if user and user.email else data.email,
                             email_confirmed=True)

    @post("/accounts/confirm/resend", status_code=HTTP_202_ACCEPTED, opt={"limit": "sessions"},
          responses=errors(422, 429),
          summary="Send a new confirmation code (same answer for any address)")
    async def resend_code(
        self, data: JSONBody[ResendCodeRequest], services: Services
    ) -> ResendCodeView:
        await services.resend_confirmation_code(data.email)
        return ResendCodeView()

    @post("/accounts/merge-guest", status_code=HTTP_200_OK, opt={"limit": "sessions"},
          dependencies=AUTHED, responses=errors(401, 403, 404, 422, 429), security=BEARER,
          summary="Move the guest's images to a member and end the guest")
    async def merge_guest(
        self, data: JSONBody[CredentialsRequest], services: Services, principal: CurrentUser
    ) -> SessionView:
        return SessionView.of(await services.merge_guest(principal, data.email, data.password))


class SessionsController(Controller):
    path = "/sessions"
    tags = ["identity"]

    @post("/", status_code=HTTP_200_OK, opt={"limit": "sessions"},
          responses=errors(401, 403, 422, 429), summary="Log in and bind this device")
    async def login(self, data: JSONBody[LoginRequest], services: Services) -> SessionView:
        result = await services.login(data.email, data.password, data.device_id, data.platform)
        return SessionView.of(result)

    @post("/refresh", status_code=HTTP_200_OK, responses=errors(401, 403, 422, 429),
          summary="New tokens; the refresh token rotates")
    async def refresh(self, data: JSONBody[RefreshRequest], services: Services) -> SessionView:
        return SessionView.of(await services.refresh(data.refresh_token, data.device_id))

    @delete("/current", status_code=HTTP_204_NO_CONTENT, dependencies=AUTHED,
            responses=errors(401, 429), security=BEARER, summary="Log out this device")
    async def logout(self, services: Services, principal: CurrentUser) -> None:
        await services.logout(principal)


class MeController(Controller):
    path = "/me"
    tags = ["profile"]
    dependencies = AUTHED
    security = BEARER

    @get("/", responses=errors(401, 403, 429), summary="The signed-in user")
    async def me(self, principal: CurrentUser) -> UserView:
        return UserView.of(principal.user)

    @patch("/", responses=errors(401, 403, 422, 429), summary="Update profile and preferences")
    async def update(
        self, data: JSONBody[ProfilePatch], services: Services, principal: CurrentUser
    ) -> UserView:
        user = await services.update_profile(principal, data.display_name, data.notify_by_email)
        return UserView.of(user)

    @get("/devices", responses=errors(401, 403, 429), summary="Devices signed in")
    async def devices(self, services: Services, principal: CurrentUser) -> DevicesView:
        found = await services.list_devices(principal.user.id)
        return DevicesView([DeviceView.of(d) for d in found])

    @delete("/devices/{device_id:str}", status_code=HTTP_204_NO_CONTENT,
            responses=errors(401, 403, 404, 429), summary="Sign a device out")
    async def revoke_device(
        self, device_id: FromPath[str], services: Services, principal: CurrentUser
    ) -> None:
        await services.revoke_device(principal.user.id, device_id)
