"""OpenAIImageGenerator against a local server speaking the images API."""

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.openai.image_generator import OpenAIImageGenerator, parse_retry_after
from application.ports.images import PermanentGenerationError, RetryableGenerationError
from domain.images.options import ImageRequest
from tests.support.fake_openai import (
    PNG,
    FakeImagesApi,
    content_policy,
    hang,
    rate_limited,
    server_error,
    success,
)
from tests.support.server import serving

WANTED = ImageRequest.parse("a red fox", "1024x1536", "high")


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeImagesApi, str]]:
    fake = FakeImagesApi()
    async with serving(fake) as base_url:
        yield fake, base_url


def generator(base_url: str, timeout: float = 5.0, **options: float) -> OpenAIImageGenerator:
    client = httpx.AsyncClient(base_url=base_url, timeout=timeout)
    return OpenAIImageGenerator(client, "sk-test", backoff=0.05, **options)  # type: ignore[arg-type]


async def test_success_decodes_b64_json_and_sends_the_request(
    api: tuple[FakeImagesApi, str],
) -> None:
    fake, base_url = api
    assert await generator(base_url).generate(WANTED) == PNG
    sent = fake.requests[0]
    assert sent["path"] == "/v1/images/generations"
    assert sent["authorization"] == "Bearer sk-test"
    assert sent["json"] == {"model": "gpt-image-1", "prompt": "a red fox", "size": "1024x1536",
                            "quality": "high", "n": 1}


async def test_429_is_retried_after_retry_after(api: tuple[FakeImagesApi, str]) -> None:
    fake, base_url = api
    fake.script = [rate_limited("1"), success()]
    started = time.monotonic()
    assert await generator(base_url).generate(WANTED) == PNG
    assert time.monotonic() - started >= 0.9
    assert len(fake.requests) == 2


async def test_a_long_retry_after_goes_back_to_the_queue(api: tuple[FakeImagesApi, str]) -> None:
    fake, base_url = api
    fake.script = [rate_limited("120")]
    with pytest.raises(RetryableGenerationError) as busy:
        await generator(base_url).generate(WANTED)
    assert busy.value.retry_after == 120 and len(fake.requests) == 1


async def test_500s_are_retried_then_retryable(api: tuple[FakeImagesApi, str]) -> None:
    fake, base_url = api
    fake.default = server_error
    with pytest.raises(RetryableGenerationError):
        await generator(base_url, attempts=3).generate(WANTED)
    assert len(fake.requests) == 3
    fake.script, fake.default = [server_error()], success
    assert await generator(base_url).generate(WANTED) == PNG


async def test_content_policy_is_permanent_and_not_retried(
    api: tuple[FakeImagesApi, str],
) -> None:
    fake, base_url = api
    fake.script = [content_policy()]
    with pytest.raises(PermanentGenerationError, match="content policy"):
        await generator(base_url).generate(WANTED)
    assert len(fake.requests) == 1


async def test_a_hang_past_the_timeout_is_retryable(api: tuple[FakeImagesApi, str]) -> None:
    fake, base_url = api
    fake.default = lambda: hang(2)
    started = time.monotonic()
    with pytest.raises(RetryableGenerationError, match="timed out"):
        await generator(base_url, timeout=0.3, attempts=2).generate(WANTED)
    assert time.monotonic() - started < 3
    assert len(fake.requests) == 2


async def test_an_unreachable_api_is_retryable() -> None:
    with pytest.raises(RetryableGenerationError, match="unreachable"):
        await generator("http://127.0.0.1:9", attempts=1).generate(WANTED)


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
