"""docs/asyncapi.yaml, the socket protocol for app developers, says what the gateway does:
its path, its close codes and reasons, its message types and limits."""

import re
from pathlib import Path
from typing import Any

import yaml

from application.images.policy import IMAGE_READY
from entrypoints.edge_gateway import hub
from entrypoints.edge_gateway.app import REALTIME_PATH
from entrypoints.wiring.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT: dict[str, Any] = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
GATEWAY_SOURCE = "\n".join(
    path.read_text() for path in (ROOT / "entrypoints" / "edge_gateway").glob("*.py"))
KEEPALIVE_TIMEOUT = 1011  # sent by uvicorn's WebSocket protocol, not by our code


def resolve(ref: str) -> Any:
    node: Any = DOCUMENT
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def every_ref(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            ref for v in node.values() for ref in every_ref(v)]
    if isinstance(node, list):
        return [ref for v in node for ref in every_ref(v)]
    return []


def test_it_is_an_asyncapi_3_document_whose_references_resolve() -> None:
    assert DOCUMENT["asyncapi"].startswith("3.")
    assert {"info", "servers", "channels", "operations", "components"} <= set(DOCUMENT)
    refs = every_ref(DOCUMENT)
    assert refs
    for ref in refs:
        assert resolve(ref) is not None, ref
    for operation in DOCUMENT["operations"].values():
        assert operation["action"] == "receive"  # the phone sends nothing


def test_the_address_and_servers_are_the_gateways() -> None:
    (channel,) = DOCUMENT["channels"].values()
    assert channel["address"] == REALTIME_PATH
    assert {server["pathname"] for server in DOCUMENT["servers"].values()} == {REALTIME_PATH}
    assert "token" in channel["bindings"]["ws"]["query"]["required"]


def test_every_close_code_is_one_the_gateway_sends_and_each_it_sends_is_listed() -> None:
    (channel,) = DOCUMENT["channels"].values()
    documented = {(entry["code"], entry["reason"]) for entry in channel["x-close-codes"]}
    sent = {hub.CLOSE_NORMAL, hub.CLOSE_POLICY, hub.CLOSE_TOO_BIG, hub.CLOSE_RESTART,
            hub.CLOSE_TRY_LATER, KEEPALIVE_TIMEOUT}
    assert {code for code, _ in documented} == sent
    for code, reason in documented:
        if code != KEEPALIVE_TIMEOUT:
            assert f'"{reason}"' in GATEWAY_SOURCE, reason
    for entry in channel["x-close-codes"]:
        assert entry["action"].strip()


def test_the_messages_are_the_ones_published() -> None:
    messages = DOCUMENT["components"]["messages"]
    types = {m["payload"]["properties"]["data"]["properties"]["type"]["const"]
             for m in messages.values() if "type" in m["payload"]["properties"]["data"].get(
                 "properties", {})}
    assert types == {IMAGE_READY, "image.deleted"}
    published = set(re.findall(r'"type": "(image\.[a-z]+)"', (
        ROOT / "application" / "admin" / "images.py").read_text() + (
        ROOT / "application" / "images" / "notify_ready.py").read_text()))
    assert published == types
    for message in messages.values():
        for example in message["examples"]:
            assert set(message["payload"]["required"]) <= set(example["payload"])


def test_the_numbers_in_the_prose_are_the_defaults() -> None:
    settings = Settings()
    description = DOCUMENT["info"]["description"]
    assert f"valid {settings.connection_token_ttl_seconds} seconds" in description
    assert settings.gateway_max_connection_age_seconds == 3600.0
    assert "at most an hour" in DOCUMENT["channels"]["notifications"]["description"]
