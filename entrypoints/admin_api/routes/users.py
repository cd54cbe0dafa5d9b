from typing import Annotated, Literal

from litestar import Controller, delete, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.status_codes import HTTP_200_OK

from application.admin.devices import ListUserDevices, RevokeUserDevice
from application.admin.users import SearchUsers, SetUserStatus, ShowUser, UnknownUser
from application.identity.devices import UnknownDevice
from application.ports.admin import UserQuery
from domain.users.model import UserKind, UserStatus
from entrypoints.admin_api.auth import Admin
from entrypoints.admin_api.openapi import ADMIN, errors
from entrypoints.admin_api.schemas import (
    DevicesView,
    DeviceView,
    InvalidCursor,
    UserDetailView,
    UserPageView,
    UserView,
    encode_cursor,
    user_cursor,
)
from entrypoints.http_edge.error_codes import INVALID_REQUEST
from entrypoints.wiring.di import Injected

Limit = Annotated[int, QueryParameter(ge=1, le=100, description="page size")]
Cursor = Annotated[str | None, QueryParameter(
    max_length=200, description="`next_cursor` of the previous page")]


class UsersController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/", responses=errors(ADMIN, INVALID_REQUEST, InvalidCursor),
         summary="Search users (newest first, cursor pages)")
    async def search(
        self, search_users: Injected[SearchUsers], admin: Admin,
        email: Annotated[str | None, QueryParameter(
            max_length=254, description="prefix")] = None,
        user_id: Annotated[str | None, QueryParameter(
            name="id", max_length=255, description="user id or provider subject")] = None,
        kind: FromQuery[Literal["guest", "member"] | None] = None,
        status: FromQuery[Literal["active", "disabled"] | None] = None,
        cursor: Cursor = None, limit: Limit = 50,
    ) -> UserPageView:
        """Users by e-mail prefix, id or provider subject, kind and status, newest first; follow
        `next` for older ones."""
        query = UserQuery(email=email or None, user_id=user_id or None,
                          kind=UserKind(kind) if kind else None,
                          status=UserStatus(status) if status else None)
        page = await search_users(query, limit, user_cursor(cursor))
        following = page.next and encode_cursor([page.next[0].isoformat(), page.next[1]])
        return UserPageView([UserView.of(u) for u in page.users], following or None)

    @get("/{user_id:str}", responses=errors(ADMIN, UnknownUser),
         summary="A user with devices, image count and live sessions")
    async def show(
        self, user_id: FromPath[str], show_user: Injected[ShowUser], admin: Admin
    ) -> UserDetailView:
        """One user with their devices, how many images they have and their live sessions."""
        return UserDetailView.of(await show_user(user_id))

    @post("/{user_id:str}/disable", status_code=HTTP_200_OK, responses=errors(ADMIN, UnknownUser),
          summary="Disable: every session ends at once, log-in is blocked")
    async def disable(
        self, user_id: FromPath[str], disable_user: Injected[SetUserStatus], admin: Admin
    ) -> UserView:
        """Disables the account: every session ends at once on every node, its sockets close, and
        log-in is refused until it is enabled again."""
        return UserView.of(await disable_user(admin, user_id))

    @post("/{user_id:str}/enable", status_code=HTTP_200_OK, responses=errors(ADMIN, UnknownUser),
          summary="Enable a disabled user")
    async def enable(
        self, user_id: FromPath[str], enable_user: Injected[SetUserStatus], admin: Admin
    ) -> UserView:
        """Enables a disabled account; the user signs in again (sessions ended by the disable stay
        ended)."""
        return UserView.of(await enable_user(admin, user_id))

    @get("/{user_id:str}/devices", responses=errors(ADMIN, UnknownUser),
         summary="Every device of the user, revoked ones too")
    async def devices(
        self, user_id: FromPath[str], list_devices: Injected[ListUserDevices], admin: Admin
    ) -> DevicesView:
        """Every device the user signed in from, revoked ones too, with when each was last seen."""
        return DevicesView([DeviceView.of(d) for d in await list_devices(user_id)])

    @delete("/{user_id:str}/devices/{device_id:str}", status_code=HTTP_200_OK,
            responses=errors(ADMIN, UnknownUser, UnknownDevice),
            summary="Sign the device out; its sessions end")
    async def revoke_device(
        self, user_id: FromPath[str], device_id: FromPath[str],
        revoke_device: Injected[RevokeUserDevice], admin: Admin,
    ) -> DeviceView:
        """Signs the device out: its sessions end, its tokens answer 401 within seconds on every
        node and its sockets close with 1008. The way to answer a stolen phone or refresh token."""
        return DeviceView.of(await revoke_device(admin, user_id, device_id))
