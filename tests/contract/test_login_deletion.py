"""Deleting a login from the identity provider, on the local provider and on Cognito (the
moto server's AdminDeleteUser): by subject, idempotent, and never reaching whoever
registers the address next (an outbox retry may run after that)."""

import pytest

from application.ports.identity import InvalidCredentials
from tests.contract.test_identity_providers import (  # noqa: F401 (fixtures)
    EMAIL,
    PASSWORD,
    Harness,
    harness,
    registered,
)


@pytest.fixture
def h(harness: Harness) -> Harness:  # noqa: F811
    return harness


async def test_a_deleted_login_cannot_sign_in_and_deleting_again_is_fine(h: Harness) -> None:
    subject = await registered(h)
    other = await registered(h, "bob@example.com")
    await h.provider.delete_login(subject)  # type: ignore[attr-defined]
    with pytest.raises(InvalidCredentials):
        await h.provider.authenticate(EMAIL, PASSWORD)
    await h.provider.delete_login(subject)  # type: ignore[attr-defined]
    await h.provider.delete_login("00000000-0000-4000-8000-000000000000")  # type: ignore[attr-defined]
    assert await h.provider.authenticate("bob@example.com", PASSWORD) == other


async def test_the_address_registers_again_and_a_late_retry_leaves_the_new_login(
    h: Harness,
) -> None:
    old = await registered(h)
    await h.provider.delete_login(old)  # type: ignore[attr-defined]
    new = await registered(h)
    assert new != old
    await h.provider.delete_login(old)  # type: ignore[attr-defined]  # the outbox's retry
    assert await h.provider.authenticate(EMAIL, PASSWORD) == new
