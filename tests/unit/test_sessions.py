from datetime import UTC, datetime, timedelta

import pytest

from domain.sessions.model import (
    DeviceMismatch,
    InvalidRefreshToken,
    RefreshFamily,
    RefreshTokenExpired,
    RefreshTokenReused,
    RefreshTokenRevoked,
)
from domain.sessions.tokens import derive_successor, hash_token

T0 = datetime(2026, 1, 1, tzinfo=UTC)
REUSE = timedelta(seconds=10)
DEVICE = "IDFV-0000000001"


def start() -> tuple[RefreshFamily, str]:
    return RefreshFamily.start("fam", "user", DEVICE, T0, timedelta(days=30))


def test_tokens_are_256_bit_and_stored_hashed() -> None:
    family, token = start()
    assert len(token) >= 43
    assert family.current_hash == hash_token(token) != token


def test_refresh_rotates_the_token() -> None:
    family, token = start()
    successor = family.refresh(token, DEVICE, T0, REUSE)
    assert successor != token
    assert family.current_hash == hash_token(successor)
    assert family.generation == 1


def test_racing_refresh_inside_reuse_interval_gets_the_same_successor() -> None:
    family, token = start()
    first = family.refresh(token, DEVICE, T0, REUSE)
    second = family.refresh(token, DEVICE, T0 + REUSE, REUSE)
    assert first == second
    assert family.generation == 1 and family.active


def test_replay_after_reuse_interval_revokes_the_family() -> None:
    family, token = start()
    newest = family.refresh(token, DEVICE, T0, REUSE)
    with pytest.raises(RefreshTokenReused):
        family.refresh(token, DEVICE, T0 + REUSE + timedelta(seconds=1), REUSE)
    assert not family.active
    with pytest.raises(RefreshTokenRevoked):
        family.refresh(newest, DEVICE, T0 + REUSE * 2, REUSE)


def test_an_older_token_is_reuse_even_inside_the_interval() -> None:
    family, t0 = start()
    t1 = family.refresh(t0, DEVICE, T0, REUSE)
    family.refresh(t1, DEVICE, T0, REUSE)
    with pytest.raises(RefreshTokenReused):
        family.refresh(t0, DEVICE, T0, REUSE)


def test_another_device_fails_and_ends_the_family() -> None:
    family, token = start()
    with pytest.raises(DeviceMismatch):
        family.refresh(token, "ANDROID-999999999", T0, REUSE)
    assert not family.active


def test_lifetime_is_fixed_from_login_not_sliding() -> None:
    family, token = start()
    later = T0 + timedelta(days=29)
    token = family.refresh(token, DEVICE, later, REUSE)
    with pytest.raises(RefreshTokenExpired):
        family.refresh(token, DEVICE, T0 + timedelta(days=30), REUSE)


def test_rotates_on_is_exactly_when_refresh_would_plainly_rotate() -> None:
    """The fast path trusts this predicate (and its SQL twin): every case where it says
    yes must be a plain rotation, every other case must go through refresh()."""
    family, token = start()
    successor = family.refresh(token, DEVICE, T0, REUSE)
    revoked, revoked_token = start()
    revoked.revoke(T0, "logout")
    cases = [
        (family, successor, DEVICE, T0, True),  # the current token
        (family, token, DEVICE, T0, False),  # the previous one: converges, no rotation
        (family, successor, "another-device-01", T0, False),  # revokes
        (family, successor, DEVICE, family.expires_at, False),  # expired
        (revoked, revoked_token, DEVICE, T0, False),
        (family, "never issued", DEVICE, T0, False),
    ]
    for candidate, presented, device, now, expected in cases:
        assert candidate.rotates_on(hash_token(presented), device, now) is expected
        if expected:
            before = candidate.generation
            candidate.refresh(presented, device, now, REUSE)
            assert candidate.generation == before + 1 and candidate.active


def test_rotate_to_records_what_refresh_records() -> None:
    family, token = start()
    other, _ = start()
    other.current_hash = family.current_hash
    successor = family.refresh(token, DEVICE, T0, REUSE)
    other.rotate_to(family.current_hash, family.rotation_nonce or b"", T0)
    assert other == family
    assert derive_successor(token, family.rotation_nonce or b"") == successor


def test_a_generation_the_family_never_reached_is_refused_without_ending_it() -> None:
    family, token = start()
    with pytest.raises(InvalidRefreshToken) as refused:
        family.refresh(token, DEVICE, T0, REUSE, generation=1)
    assert type(refused.value) is InvalidRefreshToken
    assert family.active and family.generation == 0
    successor = family.refresh(token, DEVICE, T0, REUSE, generation=0)
    assert family.current_hash == hash_token(successor)
