"""The edge answers the storage port's errors without knowing the database: an outage is a
retryable 503 `unavailable`, text the store refuses a 422 `invalid_characters`, anything
else still a 500. A node with no signing key for a moment (a revoked key's replacement not
read yet) is the same retryable 503, never a 500."""

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from adapters.crypto.eddsa import EdDSASigner
from application.ports.storage import StorageUnavailable, UnstorableText
from application.ports.tokens import SigningUnavailable
from entrypoints.http_edge.errors import EXCEPTION_HANDLERS


def _raising(error: Exception) -> Litestar:
    @get("/", sync_to_thread=False)
    def fail() -> None:
        raise error

    return Litestar([fail], exception_handlers=EXCEPTION_HANDLERS)


def _raised_from_an_outage() -> Exception:
    error = RuntimeError("what a use case made of it")
    error.__cause__ = StorageUnavailable()
    return error


@pytest.mark.parametrize("error", [StorageUnavailable(), _raised_from_an_outage()],
                         ids=["itself", "as the cause"])
async def test_an_outage_is_a_retryable_503(error: Exception) -> None:
    async with AsyncTestClient(_raising(error)) as client:
        response = await client.get("/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0


async def test_a_node_without_an_active_signing_key_answers_a_retryable_503() -> None:
    with pytest.raises(SigningUnavailable) as raised:
        EdDSASigner(lambda: None).sign({"sub": "someone"}, "at+jwt")
    async with AsyncTestClient(_raising(raised.value)) as client:
        response = await client.get("/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0


async def test_text_the_store_refuses_is_a_422() -> None:
    async with AsyncTestClient(_raising(UnstorableText())) as client:
        response = await client.get("/")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_characters"


async def test_any_other_error_is_still_a_500() -> None:
    async with AsyncTestClient(_raising(RuntimeError("a bug"))) as client:
        response = await client.get("/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
