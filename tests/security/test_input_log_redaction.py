"""A connection token never reaches a log line, however its name is spelled in the query:
the server percent-decodes `?%74oken=` into `token`, so the redaction must too. Checked on
uvicorn's WebSocket and access lines (real handshakes) and on the app's request log."""

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.sql.migrate import upgrade_database
from entrypoints.http_edge.logging import (
    RedactTokens,
    configure_logging,
    redact_tokens,
    redact_tokens_in_server_logs,
)
from tests.support.gateway import (
    CountingOrigin,
    claims,
    gateway_settings,
    handshake,
    new_key,
    running_gateway,
    sign,
)
from tests.support.server import serving
from tests.support.stack import Stack, running_stack

SPELLINGS = ["token", "%74oken", "t%6Fken", "%74%6F%6B%65%6E", "%2574oken", "tok%65n"]


@pytest.mark.parametrize("name", SPELLINGS)
def test_every_spelling_of_the_name_is_redacted(name: str) -> None:
    line = '127.0.0.1:5 - "WebSocket /v1/realtime?v=1&{}={}" 403'
    assert redact_tokens(line.format(name, "eyJh.eyJz.c2ln")) == line.format(name, "[redacted]")


def test_other_pairs_are_left_alone() -> None:
    assert redact_tokens("/v1/api/images?cursor=abc&limit=5") == "/v1/api/images?cursor=abc&limit=5"


def test_the_filter_redacts_arguments_and_message() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1,
                               '%s - "WebSocket %s" 403', ("127.0.0.1:5", "/r?%74oken=SECRET"),
                               None)
    RedactTokens().filter(record)
    assert "SECRET" not in record.getMessage()


def test_every_process_that_configures_logging_redacts_the_server_logs() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in ("uvicorn.access", "httpx")}
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.filters[:] = [f for f in logger.filters if not isinstance(f, RedactTokens)]
    try:
        configure_logging()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for name, noisy_level in noisy.items():
            logging.getLogger(name).setLevel(noisy_level)
    for name in ("uvicorn.error", "uvicorn.access"):
        record = logging.LogRecord(name, logging.INFO, __file__, 1, '%s - "GET %s"',
                                   ("127.0.0.1:5", "/r?%74oken=SECRET"), None)
        assert logging.getLogger(name).filter(record)
        assert "SECRET" not in record.getMessage()


async def test_a_percent_encoded_token_name_is_redacted_in_the_server_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = new_key()
    async with (
        serving(CountingOrigin(keys=[key])) as origin_url,
        running_gateway(gateway_settings(origin_url + "/.well-known/jwks.json")) as (url, _),
    ):
        token = sign(key, claims())
        secret_parts = token.split(".")
        with caplog.at_level(logging.INFO):
            # The gateway reads `%74oken` as `token`: the socket opens.
            assert await handshake(url, query=f"?%74oken={token}") == 101
            assert await handshake(url, query=f"?t%6Fken={token}x") == 403
            async with httpx.AsyncClient() as client:  # a plain HTTP request: the access log
                await client.get(url.replace("ws://", "http://") + f"?%74oken={token}")
        # What the server logged (the test's own HTTP client logs its URLs too).
        text = "\n".join(r.getMessage() for r in caplog.records
                         if r.name.startswith(("uvicorn", "atelier")))
    assert "WebSocket" in text and "GET /v1/realtime" in text and "=[redacted]" in text
    for part in secret_parts:
        assert part[:16] not in text


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)
    async with running_stack(tmp_path / "data", url) as running:
        yield running


async def test_the_request_log_never_shows_a_token(
    stack: Stack, caplog: pytest.LogCaptureFixture,
) -> None:
    redact_tokens_in_server_logs()  # as configure_logging does in every process
    with caplog.at_level(logging.INFO):
        # The path arrives decoded (`%3F` and `%3D` become `?` and `=`); uvicorn's access
        # line encodes it again.
        await stack.client.get("/v1/api/images/x%3F%74oken%3DSECRET-VALUE")
    paths = [r.fields["path"] for r in caplog.records if r.name == "atelier.access"]
    assert paths == ["/v1/api/images/x?token=[redacted]"]
    server_lines = [r.getMessage() for r in caplog.records if r.name.startswith("uvicorn")]
    assert server_lines and not [line for line in server_lines if "SECRET" in line]
