"""Users: search, one user with devices and sessions, disable and enable with a reason,
sign a device out."""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from application.admin.devices import RevokeUserDevice
from application.admin.users import SearchUsers, SetUserStatus, ShowUser
from application.ports.admin import UserQuery
from domain.users.model import UserKind, UserStatus
from entrypoints.admin_api.schemas import encode_cursor, user_cursor
from entrypoints.console.web import SignedIn, form_of, page, see_other
from entrypoints.wiring.di import Injected

PAGE_SIZE = 25
REASON_MAX = 500


def _choice(value: str | None, allowed: type[UserKind] | type[UserStatus]) -> Any:
    try:
        return allowed(value) if value else None
    except ValueError:
        return None


class UsersPages(Controller):
    path = "/users"

    @get("/")
    async def search(
        self, request: Request[Any, Any, Any], console: SignedIn,
        search_users: Injected[SearchUsers],
    ) -> Template:
        params = request.query_params
        q = (params.get("q") or "").strip()[:254]
        kind = _choice(params.get("kind"), UserKind)
        status = _choice(params.get("status"), UserStatus)
        if "@" in q:
            query = UserQuery(email=q, kind=kind, status=status)
        else:
            query = UserQuery(user_id=q or None, kind=kind, status=status)
        found = await search_users(query, PAGE_SIZE, user_cursor(params.get("cursor") or None))
        following = None
        if found.next:
            following = encode_cursor([found.next[0].isoformat(), found.next[1]])
        return page("users.html", request, console, nav="users", title="Users",
                    users=found.users, q=q, kind=kind.value if kind else "",
                    status_filter=status.value if status else "", next_cursor=following)

    @get("/{user_id:str}")
    async def show(
        self, request: Request[Any, Any, Any], user_id: FromPath[str], console: SignedIn,
        show_user: Injected[ShowUser],
    ) -> Template:
        return await _user_page(request, console, show_user, user_id)

    @post("/{user_id:str}/disable")
    async def disable(
        self, request: Request[Any, Any, Any], user_id: FromPath[str], console: SignedIn,
        disable_user: Injected[SetUserStatus], show_user: Injected[ShowUser],
    ) -> Response[Any]:
        return await _set_status(request, console, disable_user, show_user, user_id,
                                 "user-disabled")

    @post("/{user_id:str}/enable")
    async def enable(
        self, request: Request[Any, Any, Any], user_id: FromPath[str], console: SignedIn,
        enable_user: Injected[SetUserStatus], show_user: Injected[ShowUser],
    ) -> Response[Any]:
        return await _set_status(request, console, enable_user, show_user, user_id,
                                 "user-enabled")

    @get("/{user_id:str}/devices/{device_id:str}/revoke")
    async def confirm_revoke(
        self, request: Request[Any, Any, Any], user_id: FromPath[str], device_id: FromPath[str],
        console: SignedIn,
        show_user: Injected[ShowUser],
    ) -> Template:
        details = await show_user(user_id)
        device = next((d for d in details.devices if d.device_id == device_id), None)
        return page("revoke_device.html", request, console, nav="users",
                    title="Sign a device out", user=details.user, device=device,
                    device_id=device_id, error=None)

    @post("/{user_id:str}/devices/{device_id:str}/revoke")
    async def revoke(
        self, request: Request[Any, Any, Any], user_id: FromPath[str], device_id: FromPath[str],
        console: SignedIn,
        revoke_device: Injected[RevokeUserDevice], show_user: Injected[ShowUser],
    ) -> Response[Any]:
        reason = (await form_of(request)).get("reason", "").strip()
        if not reason or len(reason) > REASON_MAX:
            details = await show_user(user_id)
            device = next((d for d in details.devices if d.device_id == device_id), None)
            return page("revoke_device.html", request, console, nav="users", status=422,
                        title="Sign a device out", user=details.user, device=device,
                        device_id=device_id, error=_reason_error(reason))
        await revoke_device(console.acting(reason), user_id, device_id)
        return see_other(f"/users/{user_id}", "device-revoked")


def _reason_error(reason: str) -> str:
    if not reason:
        return "Give a reason; it goes to the audit log."
    return f"Keep the reason under {REASON_MAX} characters."


async def _user_page(
    request: Request[Any, Any, Any], console: SignedIn, show_user: ShowUser, user_id: FromPath[str],
    *, status: int = 200, error: str | None = None, reason: str = "",
) -> Template:
    details = await show_user(user_id)
    return page("user.html", request, console, nav="users", status=status,
                title=f"User {details.user.email or details.user.id}", details=details,
                user=details.user, error=error, reason=reason)


async def _set_status(
    request: Request[Any, Any, Any], console: SignedIn, change: SetUserStatus,
    show_user: ShowUser, user_id: FromPath[str], notice: str,
) -> Response[Any]:
    reason = (await form_of(request)).get("reason", "").strip()
    if not reason or len(reason) > REASON_MAX:
        return await _user_page(request, console, show_user, user_id, status=422,
                                error=_reason_error(reason), reason=reason[:REASON_MAX])
    await change(console.acting(reason), user_id)
    return see_other(f"/users/{user_id}", notice)
