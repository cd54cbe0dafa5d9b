"""What a store records of a refresh family: each hash issued since it was loaded, with the
generation that issued it, as RefreshFamily says (the stores never work it out)."""

from datetime import UTC, datetime, timedelta

from domain.sessions.model import IssuedHash, RefreshFamily
from domain.sessions.tokens import hash_token

T0 = datetime(2026, 1, 1, tzinfo=UTC)
REUSE = timedelta(seconds=10)
DEVICE = "IDFV-0000000001"


def test_a_new_family_has_issued_generation_zero_at_login() -> None:
    family, token = RefreshFamily.start("fam", "user", DEVICE, T0, timedelta(days=30))
    assert family.unrecorded() == [IssuedHash(hash_token(token), 0)]
    assert family.current_issued_at == T0


def test_rotations_since_load_are_numbered_after_the_stored_generation() -> None:
    family, token = RefreshFamily.start("fam", "user", DEVICE, T0, timedelta(days=30))
    family.mark_recorded()
    assert family.unrecorded() == []
    later = T0 + timedelta(minutes=5)
    first = family.refresh(token, DEVICE, later, REUSE)
    second = family.refresh(first, DEVICE, later + timedelta(minutes=1), REUSE)
    assert family.unrecorded() == [IssuedHash(hash_token(first), 1),
                                   IssuedHash(hash_token(second), 2)]
    assert family.current_issued_at == later + timedelta(minutes=1)
    family.mark_recorded()
    assert family.unrecorded() == [] and family.generation == 2


def test_converging_inside_the_reuse_interval_issues_nothing_new() -> None:
    family, token = RefreshFamily.start("fam", "user", DEVICE, T0, timedelta(days=30))
    family.refresh(token, DEVICE, T0, REUSE)
    family.mark_recorded()
    family.refresh(token, DEVICE, T0 + REUSE, REUSE)  # the same successor again
    assert family.unrecorded() == []
