"""OpenAI `gpt-image-1` over httpx: POST /v1/images/generations, the PNG as b64_json."""

import asyncio
import base64
import binascii
import email.utils
import logging
import random
import time
from typing import Any

import httpx

from application.ports.images import PermanentGenerationError, RetryableGenerationError
from domain.images.options import ImageRequest

log = logging.getLogger(__name__)

MODEL = "gpt-image-1"
CONTENT_POLICY = {"moderation_blocked", "content_policy_violation"}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds (RFC 9110: delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class OpenAIImageGenerator:
    """Retries 429, 5xx and timeouts a few times in the call (honouring Retry-After when
    it is short); past that it raises RetryableGenerationError so the queue backs off.
    A content-policy refusal (or any other 4xx about the request) is permanent."""

    def __init__(
        self, client: httpx.AsyncClient, api_key: str, *, attempts: int = 3,
        max_inline_wait: float = 10.0, backoff: float = 0.5,
    ) -> None:
        self._client, self._api_key = client, api_key
        self._attempts, self._max_inline_wait, self._backoff = attempts, max_inline_wait, backoff

    async def generate(self, request: ImageRequest) -> bytes:
        body = {"model": MODEL, "prompt": request.prompt, "size": request.size.value,
                "quality": request.quality.value, "n": 1}
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._once(body)
            except RetryableGenerationError as busy:
                wait = busy.retry_after
                if wait is None:
                    wait = self._backoff * 2 ** (attempt - 1) * (0.5 + random.random())
                if attempt == self._attempts or wait > self._max_inline_wait:
                    raise
                log.info("OpenAI busy (%s); attempt %d again in %.1f s", busy, attempt, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _once(self, body: dict[str, Any]) -> bytes:
        try:
            response = await self._client.post(
                "/v1/images/generations", json=body,
                headers={"Authorization": f"Bearer {self._api_key}"})
        except httpx.TimeoutException as error:
            raise RetryableGenerationError(f"timed out ({type(error).__name__})") from error
        except httpx.TransportError as error:
            raise RetryableGenerationError(f"unreachable ({type(error).__name__})") from error
        status = response.status_code
        if status == 200:
            return _png(response)
        problem = _error(response)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if status == 429 or status >= 500:
            raise RetryableGenerationError(f"HTTP {status}: {problem.get('message', '')}",
                                           retry_after)
        if status in (401, 403):
            # Our key or account, not the user's request: keep the job for later.
            log.error("OpenAI refused our credentials: HTTP %d %s", status, problem)
            raise RetryableGenerationError(f"HTTP {status}: credentials refused", retry_after)
        if problem.get("code") in CONTENT_POLICY or "safety" in str(problem.get("message", "")):
            raise PermanentGenerationError("the prompt was refused by the content policy")
        raise PermanentGenerationError(
            f"the image could not be generated: {problem.get('message') or f'HTTP {status}'}"[:300])


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return {}
    return error if isinstance(error, dict) else {}


def _png(response: httpx.Response) -> bytes:
    try:
        encoded = response.json()["data"][0]["b64_json"]
        return base64.b64decode(encoded, validate=True)
    except (ValueError, KeyError, IndexError, TypeError, binascii.Error) as error:
        raise RetryableGenerationError("malformed response from the images API") from error


def make_client(base_url: str, timeout: float) -> httpx.AsyncClient:
    """The long-lived client (the composition root opens and closes it)."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=10.0),
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
    )
