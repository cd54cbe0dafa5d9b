from litestar.openapi import ResponseSpec

from entrypoints.admin_api.schemas import ErrorBody
from entrypoints.http_edge.error_codes import documented

DESCRIPTIONS = {
    400: "Malformed request", 401: "Missing, invalid or expired admin token",
    403: "Not an admin, or an address outside the allow-list", 404: "Not found",
    409: "Conflict", 422: "Invalid input", 429: "Rate limited; see Retry-After",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The documented error answers of a route, all `{"error": {"code", "message"}}`."""
    wanted = {400, 403, 422, 429, *statuses}
    return {s: ResponseSpec(ErrorBody, description=text, examples=examples)
            for s in sorted(wanted) for text, examples in [documented(s, DESCRIPTIONS[s])]}
