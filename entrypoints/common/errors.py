"""The one place where exceptions become HTTP answers: `{"error": {"code", "message"}}`."""

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from domain.shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)

log = logging.getLogger("atelier.errors")

STATUS_BY_KIND: list[tuple[type[DomainError], int]] = [
    (TooManyRequests, 429),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
]

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "invalid_request", 429: "too_many_requests",
    503: "unavailable",
}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def status_for(exc: DomainError) -> int:
    for kind, status in STATUS_BY_KIND:
        if isinstance(exc, kind):
            return status
    return 400


def domain_error_handler(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    headers = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    headers["Cache-Control"] = "no-store"
    return Response(error_body(exc.code, exc.message), status_code=status_for(exc),
                    headers=headers, media_type=MediaType.JSON)


def validation_error_handler(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    details = exc.extra if isinstance(exc.extra, list) else []
    message = "; ".join(
        f"{d.get('key') or 'body'}: {d.get('message')}" for d in details if isinstance(d, dict)
    ) or str(exc.detail)
    code = "invalid_json" if "JSON" in str(exc.detail) and not details else "invalid_request"
    return Response(error_body(code, message[:500]), status_code=422, media_type=MediaType.JSON)


def http_error_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = HTTP_CODES.get(status, "error")
    if status == 400 and "JSON" in str(exc.detail):
        code = "invalid_json"
    headers = dict(exc.headers or {})
    return Response(error_body(code, str(exc.detail)), status_code=status,
                    headers=headers, media_type=MediaType.JSON)


def _is_unstorable_text(exc: BaseException) -> bool:
    """PostgreSQL refused a string (SQLSTATE 22021: a NUL byte, say) that validation let by."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) == "22021":
            return True
        seen = seen.__cause__ or getattr(seen, "orig", None)
    return False


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _is_unstorable_text(exc):
        log.warning("refused unstorable text on %s %s", request.method, request.url.path)
        return Response(error_body("invalid_characters", "the request contains characters "
                                   "that cannot be stored (such as NUL)"),
                        status_code=422, media_type=MediaType.JSON)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return Response(
        error_body("internal_error", "something went wrong; it has been logged"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR, media_type=MediaType.JSON,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    NotAuthorizedException: http_error_handler,
    PermissionDeniedException: http_error_handler,
    NotFoundException: http_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
