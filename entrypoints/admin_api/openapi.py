"""The admin API's documented error answers: each route names what it can raise."""

from litestar.openapi import ResponseSpec

from application.admin.authenticate import AdminSessionEnded
from application.ports.tokens import InvalidAccessToken
from domain.admins.model import NotAnAdmin
from entrypoints.admin_api.auth import MissingToken
from entrypoints.admin_api.schemas import ErrorBody
from entrypoints.http_edge.error_codes import (
    INVALID_JSON,
    INVALID_REQUEST,
    IP_NOT_ALLOWED,
    RATE_LIMITED,
    Raisable,
    error_responses,
)

DESCRIPTIONS = {
    400: "Malformed request", 401: "Missing, invalid or expired admin token",
    403: "Not an admin, or an address outside the allow-list", 404: "Not found",
    409: "Conflict", 422: "Invalid input", 429: "Rate limited; see Retry-After",
}

BODY: tuple[Raisable, ...] = (INVALID_JSON, INVALID_REQUEST)
"""A route reading a JSON body: one that does not parse, or one off its schema."""
ADMIN: tuple[Raisable, ...] = (MissingToken, InvalidAccessToken, AdminSessionEnded, NotAnAdmin)
"""A route behind the admin bearer token."""


def errors(*raises: Raisable | tuple[Raisable, ...]) -> dict[int, ResponseSpec]:
    """The documented error answers of an admin route that can raise `raises` (error classes,
    the edge's answers, or groups such as ADMIN and BODY); every admin route sits behind the
    address allow-list and the rate limit."""
    flat = [item for raised in raises
            for item in (raised if isinstance(raised, tuple) else (raised,))]
    return error_responses([*flat, IP_NOT_ALLOWED, RATE_LIMITED], DESCRIPTIONS, ErrorBody)
