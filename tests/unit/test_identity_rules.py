from datetime import UTC, datetime, timedelta

import pytest

from domain.devices.model import (
    InvalidDeviceId,
    InvalidPlatform,
    Platform,
    parse_platform,
    validate_device_id,
)
from domain.guests.rules import CannotMergeIntoSelf, check_merge, is_purgeable
from domain.shared.errors import TooManyRequests
from domain.transfers.model import (
    ALPHABET,
    InvalidTransferCode,
    MalformedTransferCode,
    TransferCode,
    hash_code,
    normalize_code,
)
from domain.users.lockout import LockoutPolicy, LoginAttempts, take_attempt
from domain.users.model import (
    AlreadyMember,
    InvalidEmail,
    NotAGuest,
    User,
    UserDisabled,
    UserKind,
    WeakPassword,
    check_password,
    normalize_email,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("device_id", [
    "A1B2C3D4-E5F6-7890-ABCD-EF1234567890", "9774d56d682e549c", "x" * 128, "!" * 10])
def test_device_ids_that_phones_send_are_accepted(device_id: str) -> None:
    assert validate_device_id(device_id) == device_id


@pytest.mark.parametrize("device_id", [
    "", "short", "x" * 9, "x" * 129, "has space here", "tab\tinside!", "ünicode-id-00",
    "nl\n0123456", "0123456789\n", "~" * 128 + "\x7f"])
def test_bad_device_ids_are_refused(device_id: str) -> None:
    with pytest.raises(InvalidDeviceId):
        validate_device_id(device_id)


def test_platforms() -> None:
    assert parse_platform("ios") is Platform.IOS
    with pytest.raises(InvalidPlatform):
        parse_platform("windows")


def test_email_is_normalised_and_validated() -> None:
    assert normalize_email("  Aiko@Example.COM ") == "aiko@example.com"
    for bad in ("", "no-at", "a@b", "a b@c.de", "@x.com", "a@@b.com"):
        with pytest.raises(InvalidEmail):
            normalize_email(bad)


def test_password_length_rule() -> None:
    assert check_password("a twelve chr")
    assert check_password("y" + "x" * 255)
    for bad in ("an elevenxx", "x" * 257, "y" + "x" * 256):
        with pytest.raises(WeakPassword):
            check_password(bad)


def test_guest_upgrade_keeps_identity_and_only_once() -> None:
    guest = User.new_guest("u1", T0)
    guest.upgrade("a@b.co", "sub-1")
    assert guest.id == "u1" and guest.kind is UserKind.MEMBER
    with pytest.raises(AlreadyMember):
        guest.upgrade("c@d.co", "sub-2")


def test_disabled_user_is_refused() -> None:
    user = User.new_guest("u1", T0)
    user.disable()
    with pytest.raises(UserDisabled):
        user.ensure_active()
    user.enable()
    user.ensure_active()


def test_merge_rules() -> None:
    guest, member = User.new_guest("g", T0), User.new_member("m", "a@b.co", "s", T0)
    check_merge(guest, member)
    with pytest.raises(NotAGuest):
        check_merge(member, member)
    with pytest.raises(CannotMergeIntoSelf):
        check_merge(guest, guest)
    member.disable()
    with pytest.raises(UserDisabled):
        check_merge(guest, member)


def test_idle_guest_is_purgeable_unless_a_transfer_code_is_live() -> None:
    idle = timedelta(days=90)
    guest = User.new_guest("g", T0)
    now = T0 + idle + timedelta(seconds=1)
    assert is_purgeable(guest, now, idle, has_live_transfer_code=False)
    assert not is_purgeable(guest, now, idle, has_live_transfer_code=True)
    assert not is_purgeable(guest, T0 + idle - timedelta(seconds=1), idle, False)
    assert not is_purgeable(User.new_member("m", "a@b.co", "s", T0), now, idle, False)


def test_transfer_codes_are_typable_and_carry_80_bits() -> None:
    issued, code = TransferCode.issue("u", T0, timedelta(hours=24))
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert len(ALPHABET) == 32 and not set("ILOU") & set(ALPHABET)
    assert issued.code_hash == hash_code(code) != code
    assert hash_code(code.lower().replace("-", " ")) == issued.code_hash


def test_ambiguous_symbols_are_read_as_what_they_look_like() -> None:
    assert normalize_code("oooo-iiii-llll-0000") == "0000111111110000"
    with pytest.raises(MalformedTransferCode):
        normalize_code("too-short")
    with pytest.raises(MalformedTransferCode):
        normalize_code("UUUU-UUUU-UUUU-UUUU")


def test_transfer_code_is_single_use_and_expires() -> None:
    issued, _ = TransferCode.issue("u", T0, timedelta(hours=24))
    issued.redeem(T0 + timedelta(hours=1))
    with pytest.raises(InvalidTransferCode):
        issued.redeem(T0 + timedelta(hours=2))
    late, _ = TransferCode.issue("u", T0, timedelta(hours=24))
    with pytest.raises(InvalidTransferCode):
        late.redeem(T0 + timedelta(hours=24))
    voided, _ = TransferCode.issue("u", T0, timedelta(hours=24))
    voided.void(T0)
    with pytest.raises(InvalidTransferCode):
        voided.redeem(T0)


def test_lockout_grows_after_five_failures_in_a_row() -> None:
    policy = LockoutPolicy(threshold=5, base_delay=timedelta(seconds=30),
                           max_delay=timedelta(hours=1))
    attempts = LoginAttempts("a@b.co")
    for _ in range(4):
        attempts.failed(T0, policy)
    attempts.check(T0)
    attempts.failed(T0, policy)
    with pytest.raises(TooManyRequests) as locked:
        attempts.check(T0)
    assert locked.value.retry_after == 30
    attempts.check(T0 + timedelta(seconds=30))
    attempts.failed(T0 + timedelta(seconds=30), policy)
    with pytest.raises(TooManyRequests) as longer:
        attempts.check(T0 + timedelta(seconds=30))
    assert longer.value.retry_after == 60
    assert policy.delay_after(50) == timedelta(hours=1)
    attempts.succeeded()
    attempts.check(T0 + timedelta(seconds=31))


def test_an_attempt_is_counted_before_the_check_per_source_and_for_the_account() -> None:
    policy = LockoutPolicy(threshold=2, base_delay=timedelta(seconds=30), account_threshold=3)
    account = LoginAttempts("a@b.co")
    stranger, owner = LoginAttempts("a@b.co", source="10.0.0.9"), LoginAttempts(
        "a@b.co", source="10.0.0.1")
    take_attempt(stranger, account, T0, policy)
    take_attempt(stranger, account, T0, policy)
    with pytest.raises(TooManyRequests):
        take_attempt(stranger, account, T0, policy)  # this source is locked out
    assert (stranger.failures, account.failures) == (2, 2)  # a refusal counts nothing
    take_attempt(owner, account, T0, policy)  # another source still gets its checks
    with pytest.raises(TooManyRequests) as locked:
        take_attempt(LoginAttempts("a@b.co", source="10.0.0.2"), account, T0, policy)
    assert locked.value.retry_after == 30  # the account ceiling: every source waits
