"""Errors as console pages: a domain error's message, the sign-in page for a request
without a session, and the page an address outside the allow-list gets."""

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from domain.shared.errors import DomainError, TooManyRequests
from entrypoints.console.web import SESSION_COOKIE, SignInRequired, cleared
from entrypoints.http_edge.errors import _is_unreachable, status_for

log = logging.getLogger("atelier.console")

TITLES = {400: "Bad request", 401: "Sign-in needed", 403: "Not allowed", 404: "Not found",
          405: "Not allowed", 409: "Conflict", 413: "Too large", 422: "Not valid",
          429: "Too many attempts", 500: "Something went wrong", 503: "Briefly unavailable"}


def error_page(
    request: Request[Any, Any, Any], status: int, message: str,
    headers: dict[str, str] | None = None,
) -> Template:
    return Template(
        template_name="error.html", status_code=status, headers=headers,
        context={"console": None, "notice": None, "nav": "", "path": request.url.path,
                 "status": status, "title": TITLES.get(status, "Error"), "message": message})


def sign_in_required(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    target = "/sign-in"
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method in ("GET", "HEAD") and wanted != "/":
        target += f"?next={quote(wanted, safe='')}"
    if exc.ended:
        target += ("&" if "?" in target else "?") + "notice=ended"
    response: Response[Any] = Redirect(path=target, status_code=HTTP_303_SEE_OTHER)
    if exc.ended:
        response.set_cookie(cleared(request, SESSION_COOKIE))
    return response


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else {}
    return error_page(request, status_for(exc), exc.message, headers)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    message = {404: "There is no such page.", 405: "This page does not take that request."}
    return error_page(request, status, message.get(status, TITLES.get(status, "Error")) + "",
                      dict(exc.headers or {}))


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return error_page(request, 400, "Some of what was sent is not valid; go back and check it.")


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _is_unreachable(exc):
        log.error("dependency unreachable on %s %s: %s", request.method, request.url.path,
                  type(exc).__name__)
        return error_page(request, 503, "A service the console needs is briefly unavailable; "
                          "try again in a few seconds.", {"Retry-After": "5"})
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_page(request, 500, "Something went wrong; it has been logged.")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    SignInRequired: sign_in_required,
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: internal_error,
}

DENIED_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not allowed - Atelier console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/console.css"></head>
<body><main class="narrow"><h1>Not allowed</h1>
<p>The Atelier console is not reachable from this network address.</p></main></body></html>
"""
"""What an address outside the allow-list gets (403); its stylesheet is refused too, so
the page reads without it."""
