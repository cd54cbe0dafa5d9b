"""The mobile API's documented error answers: each route names what it can raise."""

from litestar.openapi import ResponseSpec

from application.auth.authenticate import SessionEnded
from application.ports.tokens import InvalidAccessToken
from entrypoints.http_edge.error_codes import (
    INVALID_JSON,
    INVALID_REQUEST,
    RATE_LIMITED,
    Raisable,
    error_responses,
)
from entrypoints.mobile_api.schemas import ErrorBody

DESCRIPTIONS = {
    400: "Malformed request", 401: "Missing, invalid or expired credentials",
    403: "Not allowed for this account", 404: "Not found", 409: "Conflict",
    422: "Invalid input", 429: "Rate limited; see Retry-After", 503: "Unavailable",
}

SIGNED_IN: tuple[Raisable, ...] = (InvalidAccessToken, SessionEnded)
"""A route behind the bearer access token: missing, invalid or expired, or its session ended."""
BODY: tuple[Raisable, ...] = (INVALID_JSON, INVALID_REQUEST)
"""A route reading a JSON body: one that does not parse, or one off its schema."""


def errors(*raises: Raisable | tuple[Raisable, ...]) -> dict[int, ResponseSpec]:
    """The documented error answers of a route that can raise `raises` (error classes, the
    edge's answers, or groups of them such as SIGNED_IN and BODY); every route is rate limited."""
    flat = [item for raised in raises
            for item in (raised if isinstance(raised, tuple) else (raised,))]
    return error_responses([*flat, RATE_LIMITED], DESCRIPTIONS, ErrorBody)
