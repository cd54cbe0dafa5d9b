"""The overview, signing keys, broadcast, the audit log and account deletions."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from application.admin.audit_log import ListAuditLog
from application.admin.broadcast import Broadcast
from application.admin.keys import RevokeSigningKey, RotateKeysNow
from application.admin.overview import ShowOverview
from application.identity.delete_account import ACCOUNT_DELETED
from application.keys.manage_keys import ListKeys
from entrypoints.admin_api.schemas import encode_cursor, seq_cursor
from entrypoints.console.web import SignedIn, form_of, page, see_other
from entrypoints.wiring.di import Injected

AUDIT_PAGE = 50
MESSAGE_MAX = 1000

ACTIONS = [
    "admin.login", "admin.login_failed", "admin.created", "console.signed_in",
    "console.signed_out", "user.disabled", "user.enabled", "device.revoked", "image.hidden",
    "image.deleted", "keys.rotated", "key.revoked", "realtime.broadcast", ACCOUNT_DELETED,
]


@get("/")
async def overview(
    request: Request[Any, Any, Any], console: SignedIn, show_overview: Injected[ShowOverview],
) -> Template:
    found = await show_overview()
    return page("overview.html", request, console, nav="overview", title="Overview",
                overview=found, busiest=max(found.images_last_day.values(), default=0))


@get("/keys")
async def keys(
    request: Request[Any, Any, Any], console: SignedIn, list_keys: Injected[ListKeys],
) -> Template:
    found = sorted(await list_keys(), key=lambda k: k.created_at, reverse=True)
    return page("keys.html", request, console, nav="keys", title="Signing keys", keys=found,
                moves=None)


@post("/keys/rotate")
async def rotate_keys(
    request: Request[Any, Any, Any], console: SignedIn,
    rotate_keys_now: Injected[RotateKeysNow], list_keys: Injected[ListKeys],
) -> Template:
    moves = await rotate_keys_now(console.acting())
    found = sorted(await list_keys(), key=lambda k: k.created_at, reverse=True)
    return page("keys.html", request, console, nav="keys", title="Signing keys", keys=found,
                moves=moves or ["Nothing to do yet: every key is where its timing says."])


@get("/keys/{kid:str}/revoke")
async def confirm_revoke_key(
    request: Request[Any, Any, Any], kid: FromPath[str], console: SignedIn,
) -> Template:
    return page("revoke_key.html", request, console, nav="keys", title="Revoke a key",
                kid=kid, error=None, typed="")


@post("/keys/{kid:str}/revoke")
async def revoke_key(
    request: Request[Any, Any, Any], kid: FromPath[str], console: SignedIn,
    revoke_signing_key: Injected[RevokeSigningKey],
) -> Response[Any]:
    form = await form_of(request)
    typed = form.get("confirm_kid", "")
    if typed != kid:
        return page("revoke_key.html", request, console, nav="keys", title="Revoke a key",
                    status=422, kid=kid, typed=typed[:200],
                    error="Type the key id exactly as shown to revoke it.")
    await revoke_signing_key(console.acting(form.get("reason", "").strip()[:500]), kid)
    return see_other("/keys", "key-revoked")


@get("/broadcast")
async def broadcast_form(request: Request[Any, Any, Any], console: SignedIn) -> Template:
    return page("broadcast.html", request, console, nav="broadcast", title="Broadcast",
                error=None, message="")


@post("/broadcast")
async def broadcast(
    request: Request[Any, Any, Any], console: SignedIn, publish_broadcast: Injected[Broadcast],
) -> Response[Any]:
    message = (await form_of(request)).get("message", "").strip()
    if not message or len(message) > MESSAGE_MAX:
        error = ("Write the message to send." if not message
                 else f"Keep the message under {MESSAGE_MAX} characters.")
        return page("broadcast.html", request, console, nav="broadcast", title="Broadcast",
                    status=422, error=error, message=message[:MESSAGE_MAX])
    await publish_broadcast(console.acting(), "broadcast",
                            {"type": "announcement", "message": message})
    return see_other("/broadcast", "broadcast-sent")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _start_of(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None


def _cursor(value: str | None) -> int | None:
    return seq_cursor(value) if value else None


@get("/audit")
async def audit(
    request: Request[Any, Any, Any], console: SignedIn, list_audit_log: Injected[ListAuditLog],
) -> Template:
    params = request.query_params
    admin = (params.get("admin") or "").strip()[:254]
    action = (params.get("action") or "").strip()[:64]
    target = (params.get("target") or "").strip()[:300]
    since, until = _day(params.get("from")), _day(params.get("to"))
    end = _start_of(until + timedelta(days=1)) if until else None
    found = await list_audit_log(AUDIT_PAGE, _cursor(params.get("cursor")), action or None,
                                 target or None, admin or None, _start_of(since), end)
    return page("audit.html", request, console, nav="audit", title="Audit log",
                entries=found.entries, admin=admin, action=action, actions=ACTIONS, target=target,
                since=since.isoformat() if since else "", until=until.isoformat() if until else "",
                next_cursor=encode_cursor(found.next) if found.next is not None else None)


@get("/deletions")
async def deletions(
    request: Request[Any, Any, Any], console: SignedIn, list_audit_log: Injected[ListAuditLog],
) -> Template:
    found = await list_audit_log(AUDIT_PAGE, _cursor(request.query_params.get("cursor")),
                                 ACCOUNT_DELETED)
    return page("deletions.html", request, console, nav="deletions", title="Account deletions",
                entries=found.entries,
                next_cursor=encode_cursor(found.next) if found.next is not None else None)
