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
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from application.ports.storage import StorageUnavailable
from application.ports.tokens import SigningUnavailable
from domain.shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from entrypoints.http_edge.json_body import MalformedJson

log = logging.getLogger("atelier.errors")
UNAVAILABLE_RETRY_AFTER_S = 5

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
    if isinstance(exc, MalformedJson) or (status == 400 and "JSON" in str(exc.detail)):
        code = "invalid_json"
    headers = dict(exc.headers or {})
    return Response(error_body(code, str(exc.detail)), status_code=status,
                    headers=headers, media_type=MediaType.JSON)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and the ones it was raised from."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = current.__cause__
    return chain


def _is_unreachable(exc: BaseException) -> bool:
    """The store (or another dependency, or the network) is down, or this node has no
    signing key for a moment: the client should retry, nothing was lost."""
    return any(isinstance(seen, StorageUnavailable | SigningUnavailable | ConnectionError
                          | TimeoutError) for seen in _causes(exc))


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _is_unreachable(exc):
        log.error("dependency unreachable on %s %s: %s", request.method, request.url.path,
                  type(exc).__name__)
        return Response(error_body("unavailable", "the service is briefly unavailable; retry"),
                        status_code=HTTP_503_SERVICE_UNAVAILABLE, media_type=MediaType.JSON,
                        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)})
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
