"""`HEAD` on the console (as `atelier dev` mounts it) answers as `GET` does, without a body:
uptime checks and link checkers that send HEAD see the page's status and headers."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.console import ConsoleStack, running_console_stack

PAGES = ["/", "/users", "/images", "/keys", "/broadcast", "/audit", "/deletions", "/sign-in"]


@pytest.fixture
async def stack(tmp_path: Path, database_url: str) -> AsyncIterator[ConsoleStack]:
    async with running_console_stack(tmp_path / "data", database_url) as running:
        await running.create_admin()
        yield running


async def head_and_get(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, bytes]:
    head = await client.head(path)
    return head, (await client.get(path)).content


async def test_head_answers_every_page_like_get_without_the_body(stack: ConsoleStack) -> None:
    stranger = await stack.client.head("/")
    assert stranger.status_code == 303, stranger.text
    assert stranger.headers["location"].startswith("/sign-in")
    assert stranger.content == b""

    await stack.signed_in()
    for path in PAGES:
        head, body = await head_and_get(stack.client, path)
        if int(head.headers.get("content-length", -1)) != len(body):
            head, body = await head_and_get(stack.client, path)  # a minute turned over
        assert head.status_code == 200, (path, head.status_code)
        assert head.content == b"", path
        assert head.headers["content-type"].startswith("text/html"), path
        assert head.headers["cache-control"] == "no-store", path
        assert "content-security-policy" in head.headers, path
        assert int(head.headers["content-length"]) == len(body) > 0, path

    assert (await stack.client.head("/no-such-page")).status_code == 404
    assert (await stack.client.head("/sign-out")).status_code == 405  # POST only, as GET


async def test_head_on_a_static_file_gives_its_length(stack: ConsoleStack) -> None:
    head, body = await head_and_get(stack.client, "/static/console.css")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(body) > 0
