"""Which `error.code` an operation can answer, and under which HTTP status: each route names
the error classes it can raise (and the edge's own answers it can meet), its OpenAPI
responses list exactly those codes with an example each."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example, OpenAPIResponse, Operation, Schema

from domain.shared.errors import DomainError
from entrypoints.http_edge.errors import STATUS_BY_KIND


@dataclass(frozen=True)
class EdgeAnswer:
    """An error the edge answers itself, before or around the use case."""

    status: int
    code: str


INVALID_JSON = EdgeAnswer(400, "invalid_json")  # a JSON body that does not parse
INVALID_REQUEST = EdgeAnswer(422, "invalid_request")  # a body or parameter off its schema
RATE_LIMITED = EdgeAnswer(429, "too_many_requests")  # every route's per-address limit
IP_NOT_ALLOWED = EdgeAnswer(403, "ip_not_allowed")  # the admin API's address allow-list

Raisable = type[DomainError] | EdgeAnswer


def status_of(kind: type[DomainError]) -> int:
    for base, status in STATUS_BY_KIND:
        if issubclass(kind, base):
            return status
    return 400


def answers(raises: Iterable[Raisable]) -> dict[int, tuple[str, ...]]:
    """The statuses and codes of what a route can raise."""
    codes: dict[int, set[str]] = {}
    for raised in raises:
        if isinstance(raised, EdgeAnswer):
            codes.setdefault(raised.status, set()).add(raised.code)
        else:
            codes.setdefault(status_of(raised), set()).add(raised.code)
    return {status: tuple(sorted(found)) for status, found in sorted(codes.items())}


def error_responses(
    raises: Iterable[Raisable], descriptions: Mapping[int, str], body: type
) -> dict[int, ResponseSpec]:
    """A route's documented error answers, all `{"error": {"code", "message"}}`: one per
    status it can answer, listing the codes it can carry there."""
    return {status: ResponseSpec(body, description=text, examples=examples)
            for status, codes in answers(raises).items()
            for text, examples in [documented(codes, descriptions[status])]}


def documented(codes: Iterable[str], description: str) -> tuple[str, list[Example]]:
    """A documented error response: its description with the codes it may carry, and one
    example body per code."""
    codes = sorted(codes)
    listed = ", ".join(f"`{code}`" for code in codes)
    examples = [Example(id=code, summary=code, value={"error": {
        "code": code, "message": "what went wrong, in words for a person"}}) for code in codes]
    return f"{description}. `error.code` is one of: {listed}", examples


@dataclass
class OwnErrorsOperation(Operation):
    """An operation whose error answers are only those its route documents. litestar adds a
    400 in its own exception body (`status_code`, `detail`) to every route with parameters;
    this API never answers it (a parameter off its schema is a 422 `invalid_request`, a body
    that does not parse a 400 `invalid_json` its route lists)."""

    def __post_init__(self) -> None:
        if self.responses:
            self.responses = {status: response for status, response in self.responses.items()
                              if not _litestar_error(response)}


def _litestar_error(response: Any) -> bool:
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return False
    schema = next(iter(response.content.values())).schema
    return isinstance(schema, Schema) and schema.required == ["detail", "status_code"]
