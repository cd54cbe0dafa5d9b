from datetime import UTC, datetime, timedelta

import pytest

from adapters.crypto.eddsa import generate_ed25519
from domain.keys.model import (
    InvalidKeyTransition,
    KeyState,
    RotationPolicy,
    SigningKey,
    UnknownKey,
    b64url,
    thumbprint,
)
from domain.keys.ring import KeyRing

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = RotationPolicy(
    jwks_max_age=timedelta(minutes=5), margin=timedelta(minutes=5),
    longest_token_lifetime=timedelta(hours=1), leeway=timedelta(minutes=1),
    rotate_every=timedelta(days=7),
)


def make_key(now: datetime) -> SigningKey:
    public, private = generate_ed25519()
    return SigningKey.new(public, private, now)


def test_kid_is_the_rfc_8037_a3_thumbprint() -> None:
    # RFC 8037 appendix A.3: the Ed25519 key of A.1/A.2 and its RFC 7638 thumbprint.
    x = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert b64url(x) == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert thumbprint(x) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_jwk_has_every_member_a_verifier_needs() -> None:
    key = make_key(T0)
    assert key.jwk() == {
        "kty": "OKP", "crv": "Ed25519", "x": b64url(key.public_key),
        "kid": thumbprint(key.public_key), "use": "sig", "alg": "EdDSA",
    }


def test_a_fresh_issuer_gets_an_active_key_and_a_staged_next() -> None:
    ring = KeyRing()
    moves = ring.rotate(T0, POLICY, make_key)
    assert ring.active is not None
    assert len(ring.in_state(KeyState.NEXT)) == 1
    assert any(m.startswith("activated") for m in moves)


def test_rotate_is_idempotent_until_the_timing_allows() -> None:
    ring = KeyRing()
    ring.rotate(T0, POLICY, make_key)
    first_active = ring.active
    assert ring.rotate(T0 + timedelta(days=1), POLICY, make_key) == []
    assert ring.rotate(T0 + timedelta(days=6, hours=23), POLICY, make_key) == []
    assert ring.active is first_active


def test_next_is_published_long_enough_before_it_signs() -> None:
    ring = KeyRing()
    ring.rotate(T0, POLICY, make_key)
    staged = ring.in_state(KeyState.NEXT)[0]
    old = ring.active
    assert old is not None
    # Due by age, but the staged key must have been published >= max-age + margin.
    old.activated_at = T0 - timedelta(days=8)
    staged.created_at = T0 - timedelta(minutes=9)
    assert ring.rotate(T0, POLICY, make_key) == []
    staged.created_at = T0 - timedelta(minutes=10)
    moves = ring.rotate(T0, POLICY, make_key)
    assert ring.active is staged
    assert old.state is KeyState.RETIRING
    assert f"retiring {old.kid}" in moves


def test_retiring_key_stays_published_for_token_lifetime_leeway_and_max_age() -> None:
    ring = KeyRing()
    ring.rotate(T0, POLICY, make_key)
    old = ring.active
    assert old is not None
    old.activated_at = T0 - timedelta(days=8)
    ring.in_state(KeyState.NEXT)[0].created_at = T0 - timedelta(hours=1)
    ring.rotate(T0, POLICY, make_key)
    stays = POLICY.longest_token_lifetime + POLICY.leeway + POLICY.jwks_max_age
    ring.rotate(T0 + stays - timedelta(seconds=1), POLICY, make_key)
    assert old.state is KeyState.RETIRING and old in ring.published
    ring.rotate(T0 + stays, POLICY, make_key)
    assert old.state is KeyState.RETIRED and old not in ring.published


def test_revoked_active_key_is_replaced_at_once() -> None:
    ring = KeyRing()
    ring.rotate(T0, POLICY, make_key)
    bad = ring.active
    assert bad is not None
    ring.revoke(bad.kid, T0)
    assert bad.state is KeyState.REVOKED and bad not in ring.published
    ring.rotate(T0, POLICY, make_key)
    assert ring.active is not None and ring.active.kid != bad.kid


def test_transitions_cannot_skip_states() -> None:
    key = make_key(T0)
    with pytest.raises(InvalidKeyTransition):
        key.retire_signing(T0)
    with pytest.raises(InvalidKeyTransition):
        key.unpublish(T0)
    key.activate(T0)
    with pytest.raises(InvalidKeyTransition):
        key.activate(T0)


def test_revoking_an_unknown_kid_fails() -> None:
    with pytest.raises(UnknownKey):
        KeyRing().revoke("nope", T0)
