"""The public account-deletion page (Google Play's web way to ask for deletion): plain HTML
forms, no script, every value escaped. CSRF: a random token in a SameSite=Strict cookie
that each form must repeat."""

import base64
import hashlib
import hmac
import secrets
from html import escape
from string import Template
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec

from application.identity.deletion_page import ConfirmDeletionByCode, RequestDeletionCode
from application.ports.identity import CodeExpired, InvalidCode
from domain.shared.errors import InvalidInput, TooManyRequests
from entrypoints.mobile_api.openapi import DESCRIPTIONS
from entrypoints.wiring.di import Injected

PATH = "/account-deletion"
CSRF_COOKIE, CSRF_FIELD = "atelier_deletion_csrf", "csrf"
MAX_FIELD = 320

STYLE = ("body{font-family:system-ui,sans-serif;max-width:32rem;margin:0 auto;padding:1rem;"
         "line-height:1.5}input,button{font-size:1rem;padding:.6rem;width:100%;"
         "box-sizing:border-box;margin:.3rem 0}input[type=checkbox]{width:auto}"
         ".error{color:#a00}")
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

PAGE = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Delete your Atelier account</title><style>$style</style></head>
<body><h1>Delete your Atelier account</h1>$body</body></html>""")

WHAT_GOES = """<p>Deleting your account removes, for good: your profile and e-mail address,
every image you made and its prompt, your devices and sessions (every phone is signed out),
transfer codes, and your login. A record that an account was deleted, and when, is kept
without your e-mail address. This cannot be undone.</p>"""

ASK = Template("""$what_goes$message
<form method="post" action="$action">
<input type="hidden" name="csrf" value="$csrf">
<label for="email">Your account's e-mail address</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254">
<button type="submit">E-mail me a code</button></form>""")

CONFIRM = Template("""<p>If an account uses <strong>$email</strong>, we sent a 6-digit code to
it. It expires in one hour.</p>$message
<form method="post" action="$action">
<input type="hidden" name="csrf" value="$csrf">
<input type="hidden" name="email" value="$email">
<label for="code">Code</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required
 pattern="[0-9]{6}" maxlength="6">
<p><label><input type="checkbox" name="confirm" value="yes" required>
I understand that my account, my images and my devices are deleted for good.</label></p>
<button type="submit">Delete my account</button></form>
<p><a href="$restart">Start again</a></p>""")

DONE = """<p>Your account has been deleted. Your images and devices are gone, and every
phone signed in to it has been signed out. You may register again with the same address
whenever you like.</p>"""


def html_errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The page's refusals: the page again, with the reason, as HTML."""
    return {s: ResponseSpec(str, description=DESCRIPTIONS[s], media_type=MediaType.HTML)
            for s in statuses}


def _too_many(request: Request[Any, Any, Any], limited: TooManyRequests) -> Response[str]:
    """Any limit on the page (its own, or the API's per-IP one) answers the page, not JSON."""
    return _page(request, _message(
        f"Too many requests; try again in {limited.retry_after} seconds."), 429,
        {"Retry-After": str(limited.retry_after)})


class DeletionPageController(Controller):
    path = PATH
    tags = ["account deletion page"]
    exception_handlers = {TooManyRequests: _too_many}

    @get("/", media_type=MediaType.HTML, responses=html_errors(429),
         summary="The public account-deletion page")
    async def ask(self, request: Request[Any, Any, Any]) -> Response[str]:
        """The public account-deletion page (HTML) the stores ask for: a person without the app asks
        for a deletion code by e-mail."""
        return _page(request, ASK.substitute(
            what_goes=WHAT_GOES, message="", action=_url(request), csrf="{csrf}"))

    @post("/", media_type=MediaType.HTML, status_code=200, responses=html_errors(403, 422, 429),
          summary="E-mail a deletion code (the same answer for any address)")
    async def send_code(
        self, request: Request[Any, Any, Any], request_deletion_code: Injected[RequestDeletionCode],
        source_ip: Injected[str],
    ) -> Response[str]:
        """Mails a deletion code to the address if it belongs to a member; the answer is the same
        for any address."""
        form = await _checked_form(request)
        if isinstance(form, Response):
            return form
        email = form.get("email", "")
        try:
            await request_deletion_code(email, source_ip)
        except InvalidInput:
            return _page(request, ASK.substitute(
                what_goes=WHAT_GOES, message=_message("That is not an e-mail address."),
                action=_url(request), csrf="{csrf}"), 422)
        return _page(request, _confirm_form(request, email, ""))

    @post("/confirm", media_type=MediaType.HTML, status_code=200,
          responses=html_errors(403, 422, 429), summary="Delete the account with the e-mailed code")
    async def confirm(
        self, request: Request[Any, Any, Any],
        confirm_deletion_by_code: Injected[ConfirmDeletionByCode],
    ) -> Response[str]:
        """Deletes the account whose address received the code, with its images, devices and
        sessions."""
        form = await _checked_form(request)
        if isinstance(form, Response):
            return form
        email, code = form.get("email", ""), form.get("code", "")
        if form.get("confirm") != "yes":
            return _page(request, _confirm_form(
                request, email, "Tick the box to confirm the deletion."), 422)
        try:
            await confirm_deletion_by_code(email, code)
        except InvalidCode:
            return _page(request, _confirm_form(request, email, "That code is not right."), 422)
        except (CodeExpired, InvalidInput):
            return _page(request, _confirm_form(
                request, email, "That code has expired or was tried too often; start again "
                "to get a new one."), 422)
        return _page(request, DONE)


def _url(request: Request[Any, Any, Any], suffix: str = "") -> str:
    base = request.url.path.rstrip("/")
    if base.endswith("/confirm"):
        base = base[: -len("/confirm")]
    return escape(base + suffix)


def _confirm_form(request: Request[Any, Any, Any], email: str, message: str) -> str:
    return CONFIRM.substitute(email=escape(email[:MAX_FIELD]), message=_message(message),
                              action=_url(request, "/confirm"), csrf="{csrf}",
                              restart=_url(request))


def _message(text: str) -> str:
    return f'<p class="error" role="alert">{escape(text)}</p>' if text else ""


async def _checked_form(request: Request[Any, Any, Any]) -> dict[str, str] | Response[str]:
    """The posted fields, if the form repeats the cookie's CSRF token."""
    form = await request.form()
    fields = {k: str(v)[:MAX_FIELD] for k, v in form.items() if isinstance(v, str)}
    cookie, sent = request.cookies.get(CSRF_COOKIE, ""), fields.get(CSRF_FIELD, "")
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        return _page(request, _message(
            "This form has expired. Open the page again and start over."), 403)
    return fields


def _page(
    request: Request[Any, Any, Any], body: str, status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """The page with a fresh CSRF token in its forms and its cookie."""
    token = secrets.token_urlsafe(32)
    secure = (request.url.scheme == "https"
              or request.headers.get("x-forwarded-proto", "") == "https")
    return Response(
        PAGE.substitute(style=STYLE, body=body.replace("{csrf}", token)),
        status_code=status, media_type=MediaType.HTML,
        headers={**SECURITY_HEADERS, **(headers or {})},
        cookies=[Cookie(key=CSRF_COOKIE, value=token, path=_url(request), httponly=True,
                        secure=secure, samesite="strict", max_age=3600)])
