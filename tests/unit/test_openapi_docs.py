"""The mobile and admin OpenAPI documents explain themselves: every operation is described,
shows an example of its request body and of its success answer (each valid against its own
schema), every error response lists the `error.code`s it may carry with an example of each,
and every code listed is one the code can actually answer."""

import copy
import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from domain.shared.errors import DomainError
from entrypoints.admin_api import examples as admin_examples
from entrypoints.admin_api.app import create_litestar
from entrypoints.admin_api.container import AdminContainer
from entrypoints.http_edge.errors import HTTP_CODES
from entrypoints.mobile_api import examples as mobile_examples
from entrypoints.mobile_api.app import create_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings

CODES = re.compile(r"`error\.code` is one of: (.*)$")


def document(api: str) -> dict[str, Any]:
    infrastructure = Infrastructure(settings=Settings())
    app = (create_app(MobileContainer(infrastructure=infrastructure)) if api == "mobile"
           else create_litestar(AdminContainer(infrastructure=infrastructure)))
    schema: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(
        app.openapi_schema.to_schema()))  # as served (examples are raw JSON)
    return schema


def operations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{method.upper()} {path}", operation) for path, item in doc["paths"].items()
            for method, operation in item.items() if isinstance(operation, dict)
            and "responses" in operation]


def raisable_codes() -> set[str]:
    """Every code an error class defines, in every layer, and every code the edge's one
    error module writes."""
    for name in ("domain", "application", "entrypoints"):
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not module.name.startswith(("entrypoints.lambdas", "entrypoints.console")):
                importlib.import_module(module.name)
    found: set[str] = set(HTTP_CODES.values()) | {"invalid_json", "internal_error"}
    pending = list(DomainError.__subclasses__())
    while pending:
        kind = pending.pop()
        pending += kind.__subclasses__()
        found.add(kind.code)
    network = importlib.import_module("entrypoints.admin_api.network")
    found |= set(re.findall(r'"code": "([a-z_]+)"', Path(str(network.__file__)).read_text()))
    return found


@pytest.fixture(scope="module", params=["mobile", "admin"])
def doc(request: pytest.FixtureRequest) -> dict[str, Any]:
    return document(request.param)


def media_types(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each operation's request body and success answer, by media type."""
    found = []
    for name, operation in operations(doc):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            found.append((f"{name} request {media_type}", media))
        for status, response in operation["responses"].items():
            for media_type, media in response.get("content", {}).items():
                if status.startswith("2") and media_type != "image/png":  # the picture itself
                    found.append((f"{name} {status} {media_type}", media))
    return found


def closed(doc: dict[str, Any]) -> dict[str, Any]:
    """The document's schemas with no property beyond those they name, so that an example
    with a misspelt field fails too."""
    components = copy.deepcopy(doc["components"])

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for child in node.values():
                close(child)
        elif isinstance(node, list):
            for child in node:
                close(child)

    close(components)
    return components


def test_every_body_and_success_answer_shows_an_example(doc: dict[str, Any]) -> None:
    found = media_types(doc)
    assert len(found) > 15
    assert [name for name, media in found if not media.get("examples")] == []


def test_every_example_is_valid_against_its_own_schema(doc: dict[str, Any]) -> None:
    components = closed(doc)
    for name, media in media_types(doc):
        for example in media["examples"].values():
            schema = {**media["schema"], "components": components}
            errors = [error.message for error in jsonschema.Draft202012Validator(
                schema, format_checker=jsonschema.FormatChecker()).iter_errors(example["value"])]
            assert errors == [], name


@pytest.mark.parametrize("api, registry", [("mobile", mobile_examples.EXAMPLES),
                                           ("admin", admin_examples.EXAMPLES)])
def test_every_example_written_is_shown(api: str, registry: dict[str, Any]) -> None:
    doc = document(api)
    names = set(doc["components"]["schemas"]) | {
        operation.get("operationId") for _, operation in operations(doc)}
    assert set(registry) - names == set()


def test_every_operation_is_described(doc: dict[str, Any]) -> None:
    found = operations(doc)
    assert len(found) > 10
    silent = [name for name, operation in found if not operation.get("description", "").strip()]
    assert silent == []


def test_every_error_response_lists_its_codes_with_an_example_each(doc: dict[str, Any]) -> None:
    for name, operation in operations(doc):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")) or "application/json" not in response.get(
                    "content", {}):
                continue  # the account-deletion page answers its errors in HTML
            listed = CODES.search(response["description"])
            assert listed, f"{name} {status}"
            codes = re.findall(r"`([a-z_]+)`", listed.group(1))
            assert codes, f"{name} {status}"
            examples = response["content"]["application/json"]["examples"]
            assert {e["value"]["error"]["code"] for e in examples.values()} == set(codes)


def test_every_documented_code_is_one_the_code_can_answer(doc: dict[str, Any]) -> None:
    documented = {code for _, operation in operations(doc)
                  for status, response in operation["responses"].items()
                  if (listed := CODES.search(response.get("description", "")))
                  for code in re.findall(r"`([a-z_]+)`", listed.group(1))}
    assert documented
    assert documented - raisable_codes() == set()


def test_the_mobile_api_points_at_the_realtime_socket() -> None:
    description = document("mobile")["info"]["description"]
    assert "/v1/realtime" in description and "POST /v1/api/realtime/token" in description
