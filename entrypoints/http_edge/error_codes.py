"""Which `error.code` an HTTP status can carry: every DomainError's code under the status
errors.py gives it, and the codes the edge itself answers with. The OpenAPI documents list
them under each documented error response."""

import functools
import importlib
import pkgutil

from litestar.openapi.spec import Example

from domain.shared.errors import DomainError
from entrypoints.http_edge.errors import HTTP_CODES, STATUS_BY_KIND

# Only the inner layers: the APIs' route modules call errors() as they are imported.
PACKAGES = ("domain", "application")
# Answered at the edge: errors.py's handlers, the admin allow-list, and the errors the
# entrypoints define (admin_api's InvalidCursor); a test holds each to code that raises it.
EDGE_CODES: dict[int, set[str]] = {
    400: {"invalid_json"}, 403: {"ip_not_allowed"}, 422: {"invalid_json", "invalid_cursor"},
}


def status_of(kind: type[DomainError]) -> int:
    for base, status in STATUS_BY_KIND:
        if issubclass(kind, base):
            return status
    return 400


def _subclasses(kind: type[DomainError]) -> set[type[DomainError]]:
    found = set(kind.__subclasses__())
    for child in list(found):
        found |= _subclasses(child)
    return found


def _import_all() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            importlib.import_module(module.name)


@functools.cache
def codes_by_status() -> dict[int, tuple[str, ...]]:
    """Every status an API answers with an error body, and the codes it may carry."""
    _import_all()
    codes: dict[int, set[str]] = {status: {code} for status, code in HTTP_CODES.items()}
    for status, extra in EDGE_CODES.items():
        codes.setdefault(status, set()).update(extra)
    for kind in _subclasses(DomainError):
        if "code" in vars(kind):
            codes.setdefault(status_of(kind), set()).add(kind.code)
    return {status: tuple(sorted(found)) for status, found in sorted(codes.items())}


def documented(status: int, description: str) -> tuple[str, list[Example]]:
    """A documented error response: its description with the codes it may carry, and one
    example body per code."""
    codes = codes_by_status().get(status, ())
    listed = ", ".join(f"`{code}`" for code in codes)
    examples = [Example(id=code, summary=code, value={"error": {
        "code": code, "message": "what went wrong, in words for a person"}}) for code in codes]
    return f"{description}. `error.code` is one of: {listed}", examples
