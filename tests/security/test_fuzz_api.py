"""Property-based attack on both HTTP APIs as `atelier dev` serves them (mobile, admin and
gateway on one port): generated bodies (garbage, JSON of every shape, nesting thousands
deep, numbers thousands of digits long, invalid UTF-8), odd and duplicated content types,
duplicated and forged headers, raw requests with bytes no client library would send, and
schemathesis's stateful sequences over each API. The property: never a 5xx, never a
traceback in the log, never a header the request smuggled in. Bounded to well under a
minute."""

import asyncio
import json
import logging
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from adapters.crypto.argon2_hasher import Argon2PasswordHasher
from adapters.sql.engine import create_engine
from adapters.sql.migrate import upgrade_database
from adapters.sql.unit_of_work import sql_unit_of_work_factory
from application.admin.acting import Acting
from application.admin.local_admins import CreateLocalAdmin
from domain.admins.model import AdminIdentity, AdminSource
from domain.shared.clock import utcnow
from entrypoints.dev.app import create_dev_app
from entrypoints.wiring.settings import Settings
from tests.support.stack import CHEAP_HASHING
from tests.support.thread_server import serving_in_thread

MOBILE_SCHEMA, ADMIN_SCHEMA = "/v1/api/schema/openapi.json", "/v1/api/admin/schema/openapi.json"
ADMIN_EMAIL, ADMIN_PASSWORD = "fuzz@atelier.test", "fuzz-admin-password"
FUZZ = settings(deadline=None, database=None, derandomize=True, phases=[Phase.generate],
                suppress_health_check=list(HealthCheck))


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    fields: tuple[str, ...]
    admin: bool


@dataclass
class Api:
    base_url: str
    member: dict[str, str]
    admin: dict[str, str]
    operations: list[Operation]
    logged: list[logging.LogRecord] = field(default_factory=list)


class Recorder(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


async def create_admin(url: str) -> None:
    engine = create_engine(url)
    try:
        create = CreateLocalAdmin(
            sql_unit_of_work_factory(engine), Argon2PasswordHasher(1, 1024), utcnow)
        await create(Acting(AdminIdentity("fuzz", AdminSource.CLI)), ADMIN_EMAIL, ADMIN_PASSWORD)
    finally:
        await engine.dispose()


def operations(schema: dict[str, Any], admin: bool) -> list[Operation]:
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            component = schema.get("components", {}).get("schemas", {}).get(
                ref.rpartition("/")[2], {})
            found.append(Operation(method.upper(), path,
                                   tuple(component.get("properties", {})), admin))
    return found


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{folder / 'atelier.db'}"
    asyncio.run(upgrade_database(url))
    asyncio.run(create_admin(url))
    config = Settings.model_validate({
        "data_dir": folder / "data", "database_url": url, "keystore": "memory",
        "redis_url": None, "rate_limit_default_per_minute": 1_000_000,
        "rate_limit_guests_per_minute": 1_000_000, "rate_limit_sessions_per_minute": 1_000_000,
        "rate_limit_redeem_per_minute": 1_000_000, "rate_limit_redeem_global_per_hour": 10**9,
        **CHEAP_HASHING})
    logged: list[logging.LogRecord] = []
    recorder = Recorder(logged)
    logging.getLogger().addHandler(recorder)
    try:
        with serving_in_thread(create_dev_app(config)) as base_url:
            guest = httpx.post(f"{base_url}/v1/api/guests", json={
                "device_id": "IDFV-FUZZ-0123456789", "platform": "ios"})
            login = httpx.post(f"{base_url}/v1/api/admin/sessions", json={
                "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            assert guest.status_code == 201 and login.status_code == 200, (guest, login)
            found = (operations(httpx.get(base_url + MOBILE_SCHEMA).json(), admin=False)
                     + operations(httpx.get(base_url + ADMIN_SCHEMA).json(), admin=True))
            # Logging the shared member out would make everything after it a 401.
            found = [op for op in found if op.path != "/v1/api/sessions/current"
                     and (op.method, op.path) != ("DELETE", "/v1/api/me")]
            yield Api(base_url,
                      {"Authorization": f"Bearer {guest.json()['tokens']['access_token']}"},
                      {"Authorization": f"Bearer {login.json()['token']}"}, found, logged)
    finally:
        logging.getLogger().removeHandler(recorder)


def no_tracebacks(api: Api) -> None:
    tracebacks = [f"{r.name}: {r.getMessage()}" for r in api.logged if r.exc_info]
    assert tracebacks == []


# --- strategies --------------------------------------------------------------------------

ODD_TEXT = st.sampled_from([
    "", " ", "null", "0", "-1", "1e999", "NaN", "../../etc/passwd", "%00", "\x00", "a" * 300,
    "' OR 1=1 --", "<script>", "x<victim@evil.com>", "=?utf-8?q?x?=@example.com",
    "\ud800", "\U0001d518\U0001d52b\u0301", "IDFV-0123456789AB",
    "00000000-0000-0000-0000-000000000000"])
TEXT = st.one_of(ODD_TEXT, st.text(max_size=40))
HUGE = st.integers(min_value=20, max_value=4000).map(lambda n: "9" * n)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT)


def json_values(names: tuple[str, ...]) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from(names), TEXT) if names else TEXT
    return st.recursive(SCALARS, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=6)), max_leaves=16)


def bodies(op: Operation) -> st.SearchStrategy[bytes]:
    shaped = json_values(op.fields).map(lambda v: json.dumps(v, allow_nan=True).encode())
    deep = st.tuples(st.integers(200, 20_000), st.sampled_from(["[", '{"a":'])).map(
        lambda d: (d[1] * d[0] + "1" + ("]" if d[1] == "[" else "}") * d[0]).encode())
    huge = st.tuples(st.sampled_from(op.fields or ("limit",)), HUGE, st.sampled_from(
        ["{}", "-{}", "{}.5e99999", "0.{}", "{}e-99999"])).map(
        lambda h: ('{"' + h[0] + '": ' + h[2].format(h[1]) + "}").encode())
    broken = st.tuples(shaped, st.integers(0, 200), st.sampled_from(
        [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x00", b"\\u0000"])).map(
        lambda b: b[0][:b[1]] + b[2] + b[0][b[1]:])
    return st.one_of(shaped, deep, huge, broken, st.binary(max_size=300), st.just(b""))


CONTENT_TYPES = st.one_of(st.sampled_from([
    "application/json", "application/json; charset=latin-1", "application/json; charset=utf-16",
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "multipart/form-data", "application/msgpack", "application/problem+json", "*/*", "",
    "application/json, text/plain", ";;;", "application/json; boundary=\"",
]), st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=60))
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                    exclude_characters="\x7f"), max_size=80)
EXTRA_HEADERS = st.lists(st.tuples(st.sampled_from([
    "X-Forwarded-For", "X-Request-Id", "Accept", "Accept-Encoding", "Content-Encoding",
    "Idempotency-Key", "Origin", "Cookie", "If-None-Match", "Range", "Authorization",
    "Content-Type", "X-Forwarded-Proto", "Forwarded", "Accept-Language"]), HEADER_TEXT),
    max_size=5)


def escaped(text: str) -> str:
    """Percent-encoded UTF-8, lone surrogates included (they arrive as invalid UTF-8)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def path_for(op: Operation, values: list[str]) -> str:
    parts = iter(values)
    return re.sub(r"\{[^}]+\}", lambda _: escaped(next(parts, "x")), op.path)


def sendable(value: bytes) -> bytes:
    """What a client library will send: no control bytes, no blanks at either end (the raw
    requests below go further)."""
    return bytes(b for b in value if b >= 0x20 and b != 0x7F).strip(b" \t")


@st.composite
def requests(draw: st.DrawFn, api: Api) -> tuple[str, str, list[tuple[str, bytes]], bytes]:
    op = draw(st.sampled_from(api.operations))
    path = path_for(op, draw(st.lists(TEXT, min_size=3, max_size=3)))
    auth = draw(st.sampled_from(["own", "other", "none", "garbage", "twice"]))
    own, other = (api.admin, api.member) if op.admin else (api.member, api.admin)
    headers: list[tuple[str, str]] = {
        "own": list(own.items()), "other": list(other.items()), "none": [],
        "garbage": [("Authorization", "Bearer " + draw(TEXT).encode("utf-8", "replace")
                     .decode("latin-1"))],
        "twice": [*own.items(), *other.items()],
    }[auth]
    for _ in range(draw(st.integers(0, 2))):
        headers.append(("Content-Type", draw(CONTENT_TYPES)))
    headers += draw(EXTRA_HEADERS)
    encoded = [(name, sendable(value.encode("latin-1", "replace"))) for name, value in headers]
    query = draw(st.dictionaries(st.sampled_from(["cursor", "limit", "email", "user_id",
                                                  "status", "token", "kind"]), TEXT, max_size=3))
    if query:
        path += "?" + "&".join(f"{name}={escaped(value)}" for name, value in query.items())
    return op.method, path, encoded, draw(bodies(op))


# --- properties ----------------------------------------------------------------------------

def test_no_generated_request_gets_a_server_error(api: Api) -> None:
    failures: list[str] = []
    with httpx.Client(base_url=api.base_url, timeout=30) as client:

        @given(request=requests(api))
        @settings(FUZZ, max_examples=300)
        def call(request: tuple[str, str, list[tuple[str, bytes]], bytes]) -> None:
            method, path, headers, body = request
            response = client.request(method, path, headers=headers, content=body)
            if response.status_code >= 500:
                failures.append(f"{method} {path} {headers!r} {body[:120]!r} -> "
                                f"{response.status_code} {response.text[:200]}")

        call()
    assert failures == []
    no_tracebacks(api)


def raw_exchange(base_url: str, request: bytes) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)  # `Connection: close`: the server ends the exchange
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


RAW_BYTES = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@st.composite
def raw_requests(draw: st.DrawFn, api: Api) -> bytes:
    op = draw(st.sampled_from(api.operations))
    target = path_for(op, ["x", "y", "z"]).encode()
    if draw(st.booleans()):
        target += b"?" + draw(RAW_BYTES).replace(b" ", b"")
    auth = api.admin if op.admin else api.member
    body = draw(bodies(op))
    lines = [f"{op.method} ".encode() + target + b" HTTP/1.1", b"Host: 127.0.0.1",
             b"Connection: close", f"Authorization: {auth['Authorization']}".encode()]
    lines += [b"Content-Type: " + draw(RAW_BYTES) for _ in range(draw(st.integers(0, 2)))]
    length = draw(st.sampled_from(["exact", "twice", "none"]))
    if length != "none":
        lines += [f"Content-Length: {len(body)}".encode()] * (2 if length == "twice" else 1)
    # obs-text and control bytes in values; an attempt to smuggle a header into the answer.
    lines += [b"X-Request-Id: " + draw(RAW_BYTES),
              b"X-Request-Id: abcdefgh\r\nSet-Cookie: smuggled=1",
              b"X-Forwarded-For: " + draw(RAW_BYTES)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def test_raw_requests_get_no_server_error_and_smuggle_nothing(api: Api) -> None:
    failures: list[str] = []

    @given(request=raw_requests(api))
    @settings(FUZZ, max_examples=150)
    def exchange(request: bytes) -> None:
        answer = raw_exchange(api.base_url, request)
        head = answer.split(b"\r\n\r\n", 1)[0]
        status = head.split(b" ", 2)[1:2]
        if not status or status[0].startswith(b"5") or b"smuggled" in head.lower():
            failures.append(f"{request[:300]!r} -> {head[:300]!r}")

    exchange()
    assert failures == []
    no_tracebacks(api)


@pytest.mark.parametrize(("schema_path", "who"), [(MOBILE_SCHEMA, "member"),
                                                  (ADMIN_SCHEMA, "admin")])
def test_stateful_sequences_get_no_server_error(api: Api, schema_path: str, who: str) -> None:
    schema = schemathesis.openapi.from_url(api.base_url + schema_path)
    auth = api.member if who == "member" else api.admin
    failures: list[str] = []

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": api.base_url, "headers": auth, "timeout": 30}

        def call(self, case: Any, **kwargs: Any) -> Any:
            if case.method == "DELETE" and case.path in ("/v1/api/sessions/current",
                                                         "/v1/api/me"):
                kwargs["headers"] = {}  # keep the shared member signed in
            return case.call(**kwargs)

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> "
                                f"{response.status_code}: {response.text[:200]}")

    Machine.run(settings=settings(FUZZ, max_examples=12, stateful_step_count=6))
    assert failures == []
    no_tracebacks(api)
