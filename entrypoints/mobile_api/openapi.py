from litestar.openapi import ResponseSpec

from entrypoints.http_edge.error_codes import documented
from entrypoints.mobile_api.schemas import ErrorBody

DESCRIPTIONS = {
    400: "Malformed request", 401: "Missing, invalid or expired credentials",
    403: "Not allowed for this account", 404: "Not found", 409: "Conflict",
    422: "Invalid input", 429: "Rate limited; see Retry-After", 503: "Unavailable",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The documented error answers of a route, all `{"error": {"code", "message"}}`."""
    wanted = {400, 422, 429, *statuses}
    return {s: ResponseSpec(ErrorBody, description=text, examples=examples)
            for s in sorted(wanted) for text, examples in [documented(s, DESCRIPTIONS[s])]}
