"""What every console page shares: the session cookie, the CSRF token, the signed-in admin
and the security headers."""

import hashlib
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from application.admin.acting import Acting
from application.admin.console_sessions import ConsoleSessionEnded, ResumeConsoleSession
from domain.admins.model import AdminIdentity
from domain.shared.errors import Forbidden
from entrypoints.wiring.di import Injected

log = logging.getLogger("atelier.console")

SESSION_COOKIE = "atelier_console"
FORM_COOKIE = "atelier_console_form"
"""Before sign-in: the sign-in form's CSRF token, the same in the cookie and the form."""
CSRF_FIELD = "csrf_token"
LOOPBACK_HTTP = "console_loopback_http_cookies"
"""app.state flag (`atelier dev`): plain http on a loopback host gets cookies without
Secure, which a browser would otherwise drop there."""

BASE_CSP = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
    "img-src": "'self'", "object-src": "'none'", "frame-ancestors": "'none'",
    "base-uri": "'none'", "form-action": "'self'",
}


def content_security_policy(img_origins: Iterable[str] = ()) -> str:
    """No inline script or style anywhere; pictures also from the short-lived links'
    origins (S3), when a page shows some."""
    policy = dict(BASE_CSP)
    extra = sorted({o for o in img_origins if o})
    if extra:
        policy["img-src"] = " ".join(["'self'", *extra])
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def origin_of(url: str) -> str | None:
    """`https://bucket.s3.amazonaws.com` of a presigned link; None for a relative one."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


SECURITY_HEADERS = [
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """ASGI wrapper: every console answer (the 403 for strangers too) gets the CSP and
    the other security headers, and `Cache-Control: no-store` unless it set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy",
                                    content_security_policy().encode()))
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """ASGI wrapper: `HEAD` on any console path answers as `GET` would (status, headers,
    `Content-Length` of the page) without the body, where the router alone answers 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def csrf_token(session_id: str) -> str:
    """Derived from the session id (never stored): a page's forms carry it, a POST must."""
    return hmac.new(session_id.encode(), b"atelier-console-csrf", hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class SignInRequired(Exception):
    """No live console session: the browser goes to the sign-in page."""

    def __init__(self, ended: bool = False) -> None:
        super().__init__("sign in")
        self.ended = ended


class FormRefused(Forbidden):
    """This form has expired or did not come from the console. Go back, reload the page
    and try again."""

    code = "csrf_failed"


@dataclass(frozen=True)
class Console:
    """The signed-in admin of a request, the session's CSRF token, the client address."""

    admin: AdminIdentity
    session_id: str
    csrf: str
    source_ip: str

    def acting(self, reason: str | None = None) -> Acting:
        return Acting(self.admin, self.source_ip, (reason or "").strip() or None)

    @property
    def name(self) -> str:
        return self.admin.email or self.admin.subject


SignedIn = NamedDependency[Console]
"""A page's signed-in admin (the `console` dependency of the signed-in pages)."""


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The url-encoded form, text fields only (repeated names: the first)."""
    form = await request.form()
    found: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in found:
            found[key] = value
    return found


async def provide_console(
    request: Request[Any, Any, Any],
    resume_console_session: Injected[ResumeConsoleSession],
    source_ip: Injected[str],
) -> Console:
    """The signed-in admin (or SignInRequired); on every state-changing request, the
    session's CSRF token must come back in the form."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id or len(session_id) > 200:
        raise SignInRequired()
    try:
        admin = await resume_console_session(session_id)
    except ConsoleSessionEnded:
        raise SignInRequired(ended=True) from None
    token = csrf_token(session_id)
    if request.method not in ("GET", "HEAD"):
        form = await form_of(request)
        if not same(form.get(CSRF_FIELD), token):
            log.warning("console form refused: CSRF token missing or wrong", extra={"fields": {
                "client_ip": source_ip, "path": request.url.path}})
            raise FormRefused()
    return Console(admin, session_id, token, source_ip)


def cookies_secure(request: Request[Any, Any, Any]) -> bool:
    """Secure, except plain http to a loopback host under `atelier dev`."""
    if not request.app.state.get(LOOPBACK_HTTP, False) or request.url.scheme != "http":
        return True
    host = (request.url.hostname or "").strip("[]")
    if host == "localhost":
        return False
    try:
        return not ip_address(host).is_loopback
    except ValueError:
        return True


def session_cookie(request: Request[Any, Any, Any], value: str, max_age: int | None) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=value, path="/", httponly=True,
                  secure=cookies_secure(request), samesite="strict", max_age=max_age)


def form_cookie(request: Request[Any, Any, Any], value: str) -> Cookie:
    return Cookie(key=FORM_COOKIE, value=value, path="/", httponly=True,
                  secure=cookies_secure(request), samesite="strict", max_age=3600)


def cleared(request: Request[Any, Any, Any], key: str) -> Cookie:
    return Cookie(key=key, value="", path="/", httponly=True, secure=cookies_secure(request),
                  samesite="strict", max_age=0, expires=0)


def local_path(target: str | None, default: str = "/") -> str:
    """A redirect target that stays on the console (`/users?q=x`), else `default`."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 0x21 for c in target) or len(target) > 500:
        return default
    return target


NOTICES = {
    "signed-out": "You are signed out.",
    "ended": "Your session ended; sign in again.",
    "user-disabled": "The user is disabled; their sessions have ended.",
    "user-enabled": "The user is enabled again.",
    "device-revoked": "The device is signed out.",
    "image-hidden": "The image is hidden.",
    "image-deleted": "The image is deleted.",
    "keys-rotated": "Key rotation ran.",
    "key-revoked": "The key is revoked; a new key signs from now on.",
    "broadcast-sent": "The message went to every connected phone.",
}


def notice_of(request: Request[Any, Any, Any]) -> str | None:
    return NOTICES.get(request.query_params.get("notice") or "")


def page(
    name: str, request: Request[Any, Any, Any], console: Console | None, *,
    status: int = 200, headers: dict[str, str] | None = None, **context: Any,
) -> Template:
    return Template(
        template_name=name, status_code=status, headers=headers,
        context={"console": console, "notice": notice_of(request), "nav": "",
                 "path": request.url.path, **context})


def see_other(path: str, notice: str | None = None) -> Redirect:
    if notice:
        path = f"{path}{'&' if '?' in path else '?'}notice={notice}"
    return Redirect(path=path, status_code=HTTP_303_SEE_OTHER)
