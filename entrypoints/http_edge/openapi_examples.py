"""Examples in the OpenAPI documents: each operation's request body and success answer show
one, taken from the API's registry by the name of their schema (or by the operation's id
when the answer has no named schema)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.spec import Example, OpenAPIMediaType, Operation, Reference, Schema

from entrypoints.http_edge.error_codes import OwnErrorsOperation


def schema_name(schema: Schema | Reference | None) -> str | None:
    """`SessionView` for `#/components/schemas/SessionView`, also inside `X | None`; while
    the document is built litestar names it by module (`..._schemas_SessionView`)."""
    if isinstance(schema, Reference):
        return schema.ref.rsplit("/", 1)[-1].rsplit("_", 1)[-1]
    if isinstance(schema, Schema) and schema.one_of:
        names = [schema_name(option) for option in schema.one_of]
        return next((name for name in names if name), None)
    return None


def _show(media: OpenAPIMediaType, value: Any) -> None:
    """As raw JSON: litestar drops the None values of a dict it writes, and a field that is
    required but null (`"next_cursor": null`) would go missing."""
    if value is not None and not media.examples:
        raw = msgspec.Raw(msgspec.json.encode(value))
        media.examples = {"example": Example(summary="example", value=raw)}


def documented_operation(examples: Mapping[str, Any]) -> type[Operation]:
    """The operation class of an API whose examples are `examples`."""

    @dataclass
    class DocumentedOperation(OwnErrorsOperation):
        def __post_init__(self) -> None:
            super().__post_init__()
            body = self.request_body
            if body is not None and not isinstance(body, Reference):
                for media in body.content.values():
                    _show(media, examples.get(schema_name(media.schema) or ""))
            for status, response in (self.responses or {}).items():
                if not status.startswith("2") or isinstance(response, Reference):
                    continue
                for media in (response.content or {}).values():
                    name = schema_name(media.schema)
                    _show(media, examples.get(name) if name else examples.get(
                        self.operation_id or ""))

    return DocumentedOperation
