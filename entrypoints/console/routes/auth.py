"""Signing in and out: local admins with e-mail and password; in Cognito mode, the hosted
UI (authorization code with PKCE) and the admin token verifier's `admins` check."""

import logging
import secrets
import time
from typing import TYPE_CHECKING, Any, Protocol

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from application.admin.acting import Acting
from application.admin.console_sessions import EndConsoleSession, StartConsoleSession
from application.admin.local_admins import LocalAdminLogin
from application.ports.admin import AdminTokenVerifier
from application.ports.tokens import TokenSigner
from domain.admins.console_session import ConsoleSessionLimits
from domain.admins.model import AdminIdentity, AdminSource, InvalidAdminCredentials
from domain.shared.errors import DomainError, InvalidInput, TooManyRequests, Unauthorized
from entrypoints.console.web import (
    CSRF_FIELD,
    FORM_COOKIE,
    SESSION_COOKIE,
    FormRefused,
    SignedIn,
    cleared,
    cookies_secure,
    form_cookie,
    form_of,
    local_path,
    page,
    provide_console,
    same,
    see_other,
    session_cookie,
)
from entrypoints.wiring.di import Injected
from entrypoints.wiring.settings import Settings

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

log = logging.getLogger("atelier.console")

PENDING_COOKIE = "atelier_console_signin"
PENDING_AUDIENCE = "atelier-console-signin"
PENDING_TYP = "console-signin+jwt"
PENDING_SECONDS = 600


class PublicKeys(Protocol):
    def public_key(self, kid: str) -> "Ed25519PublicKey | None": ...


def _sign_in_page(
    request: Request[Any, Any, Any], settings: Settings, *, status: int = 200,
    error: str | None = None, email: str = "", next_path: str = "/",
) -> Template:
    token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
    if len(token) > 100:
        token = secrets.token_urlsafe(32)
    response = page("sign_in.html", request, None, status=status, title="Sign in",
                    form_token=token, error=error, email=email, next=next_path,
                    cognito=settings.admin_auth == "cognito")
    response.set_cookie(form_cookie(request, token))
    return response


@get("/sign-in", name="sign_in")
async def sign_in_form(request: Request[Any, Any, Any], settings: Injected[Settings]) -> Template:
    return _sign_in_page(request, settings,
                         next_path=local_path(request.query_params.get("next")))


async def _start(
    request: Request[Any, Any, Any], start: StartConsoleSession, limits: ConsoleSessionLimits,
    acting: Acting, next_path: str,
) -> Response[Any]:
    session_id = await start(acting)
    response: Response[Any] = see_other(local_path(next_path))
    response.set_cookie(session_cookie(request, session_id, int(limits.absolute.total_seconds())))
    response.set_cookie(cleared(request, FORM_COOKIE))
    return response


@post("/sign-in", opt={"limit": "sign-in"}, request_max_body_size=16 * 1024)
async def sign_in(
    request: Request[Any, Any, Any], settings: Injected[Settings],
    login: Injected[LocalAdminLogin], start_console_session: Injected[StartConsoleSession],
    session_limits: Injected[ConsoleSessionLimits], source_ip: Injected[str],
) -> Response[Any]:
    form = await form_of(request)
    expected = request.cookies.get(FORM_COOKIE)
    if not expected or not same(form.get(CSRF_FIELD), expected):
        raise FormRefused()
    email, password = form.get("email", "").strip(), form.get("password", "")
    next_path = local_path(form.get("next"))
    if settings.admin_auth != "local":
        return _sign_in_page(request, settings, status=403, next_path=next_path,
                             error="Sign in with your organisation's account here.")
    if not email or not password or len(email) > 254 or len(password) > 256:
        return _sign_in_page(request, settings, status=422, email=email[:254],
                             next_path=next_path, error="Enter your e-mail and password.")
    try:
        session = await login(email, password, source_ip)
    except (InvalidAdminCredentials, InvalidInput):
        return _sign_in_page(request, settings, status=401, email=email, next_path=next_path,
                             error="That e-mail and password do not match an admin account.")
    except TooManyRequests as locked:
        response = _sign_in_page(
            request, settings, status=429, email=email, next_path=next_path,
            error=f"Too many attempts. Try again in {locked.retry_after} seconds.")
        response.headers["Retry-After"] = str(locked.retry_after)
        return response
    admin = AdminIdentity(session.admin.id, AdminSource.LOCAL, session.admin.email)
    return await _start(request, start_console_session, session_limits,
                        Acting(admin, source_ip), next_path)


@post("/sign-out", dependencies={"console": provide_console})
async def sign_out(
    request: Request[Any, Any, Any], console: SignedIn,
    end_console_session: Injected[EndConsoleSession],
) -> Response[Any]:
    await end_console_session(console.acting(), console.session_id)
    response: Response[Any] = see_other("/sign-in", "signed-out")
    response.set_cookie(cleared(request, SESSION_COOKIE))
    return response


# --- the Cognito hosted UI ----------------------------------------------------------------

def _pending_cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    # Lax, not Strict: the browser comes back from the identity provider's site.
    return Cookie(key=PENDING_COOKIE, value=value, path="/auth/", httponly=True,
                  secure=cookies_secure(request), samesite="lax", max_age=max_age)


def _hosted_ui(request: Request[Any, Any, Any], settings: Settings) -> Any:
    """One HostedUi per app (imported when first used: only Cognito mode needs it)."""
    found = request.app.state.get("console_hosted_ui")
    if found is None:
        from entrypoints.console.hosted_ui import HostedUi

        found = request.app.state["console_hosted_ui"] = HostedUi(settings)
    return found


@get("/auth/login")
async def hosted_ui_login(
    request: Request[Any, Any, Any], settings: Injected[Settings], signer: Injected[TokenSigner],
) -> Response[Any]:
    if settings.admin_auth != "cognito":
        return see_other("/sign-in")
    url, pending = _hosted_ui(request, settings).begin()
    now = int(time.time())
    sealed = signer.sign({
        "aud": PENDING_AUDIENCE, "iat": now, "exp": now + PENDING_SECONDS,
        "state": pending.state, "verifier": pending.code_verifier, "nonce": pending.nonce,
        "next": local_path(request.query_params.get("next"))}, PENDING_TYP)
    response: Response[Any] = Redirect(path=url, status_code=302)
    response.set_cookie(_pending_cookie(request, sealed, PENDING_SECONDS))
    return response


def _unsealed(sealed: str, keys: PublicKeys) -> dict[str, Any] | None:
    import jwt  # Cognito mode only

    try:
        header = jwt.get_unverified_header(sealed)
        kid = header.get("kid")
        key = keys.public_key(kid) if isinstance(kid, str) else None
        if key is None or header.get("typ") != PENDING_TYP:
            return None
        claims: dict[str, Any] = jwt.decode(
            sealed, key, algorithms=["EdDSA"], audience=PENDING_AUDIENCE,
            options={"require": ["exp", "aud"]})
    except jwt.PyJWTError:
        return None
    return claims


@get("/auth/callback")
async def hosted_ui_callback(
    request: Request[Any, Any, Any], settings: Injected[Settings],
    signing_keys: Injected[PublicKeys], admin_tokens: Injected[AdminTokenVerifier],
    start_console_session: Injected[StartConsoleSession],
    session_limits: Injected[ConsoleSessionLimits], source_ip: Injected[str],
) -> Response[Any]:
    if settings.admin_auth != "cognito":
        return see_other("/sign-in")
    from entrypoints.console.hosted_ui import HostedUiRefused, PendingSignIn

    claims = _unsealed(request.cookies.get(PENDING_COOKIE, ""), signing_keys)
    code, state = request.query_params.get("code", ""), request.query_params.get("state", "")
    refused = "The sign-in did not complete. Start again from the sign-in page."
    if claims is None or not code or not state:
        return _refused(request, settings, refused)
    pending = PendingSignIn(str(claims.get("state", "")), str(claims.get("verifier", "")),
                            str(claims.get("nonce", "")))
    try:
        access_token = await _hosted_ui(request, settings).complete(pending, code, state)
        admin = await admin_tokens.verify(access_token)
    except HostedUiRefused as exc:
        log.warning("console hosted UI sign-in refused: %s", exc)
        return _refused(request, settings, refused)
    except (Unauthorized, DomainError) as exc:
        log.warning("console hosted UI sign-in refused: %s", exc.code)
        return _refused(request, settings, "This account is not a console admin.", 403)
    response = await _start(request, start_console_session, session_limits,
                            Acting(admin, source_ip), str(claims.get("next") or "/"))
    response.set_cookie(_pending_cookie(request, "", 0))
    # Back from another site, a SameSite=Strict cookie is not sent on the redirect that
    # follows; a page of ours moves on instead, and the next request carries it.
    target = response.headers.get("location", "/")
    continuing = page("continue.html", request, None, title="Signed in", target=target)
    for cookie in response.cookies:
        continuing.set_cookie(cookie)
    return continuing


def _refused(
    request: Request[Any, Any, Any], settings: Settings, message: str, status: int = 401
) -> Response[Any]:
    response = _sign_in_page(request, settings, status=status, error=message)
    response.set_cookie(_pending_cookie(request, "", 0))
    return response
