"""Sealed refresh tokens: what they name, and that nothing but this server's key makes one
the server honours."""

import pytest

from domain.sessions.tokens import (
    RefreshTokenSeal,
    SealedToken,
    derive_successor,
    is_sealed,
    new_refresh_token,
    new_rotation_nonce,
)

KEY = b"k" * 32
FAMILY = "0f3c5e7a9b1d4f6a8c0e2b4d6f8a1c3e"


def test_a_sealed_token_names_its_family_generation_and_secret() -> None:
    seal, secret = RefreshTokenSeal(KEY), new_refresh_token()
    token = seal.seal(FAMILY, 7, secret)
    assert token.startswith(f"v2.{FAMILY}.7.{secret}.") and is_sealed(token)
    assert seal.open(token) == SealedToken(FAMILY, 7, secret)
    successor = derive_successor(secret, new_rotation_nonce())
    assert seal.open(seal.seal(FAMILY, 8, successor)) == SealedToken(FAMILY, 8, successor)


def test_any_change_or_another_key_breaks_the_mac() -> None:
    seal, secret = RefreshTokenSeal(KEY), new_refresh_token()
    token = seal.seal(FAMILY, 3, secret)
    _, family, generation, _, mac = token.split(".")
    forged = [
        f"v2.{family}.2.{secret}.{mac}",  # an older generation
        f"v2.{family}.4.{secret}.{mac}",
        f"v2.{'a' * 32}.{generation}.{secret}.{mac}",  # another family
        f"v2.{family}.{generation}.{new_refresh_token()}.{mac}",
        f"v2.{family}.{generation}.{secret}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        RefreshTokenSeal(b"x" * 32).seal(FAMILY, 3, secret),
    ]
    for candidate in forged:
        assert seal.open(candidate) is None, candidate


@pytest.mark.parametrize("token", [
    "", "v2", "v2....", "v1.fam.0.secret.mac", new_refresh_token(),
    "v2.fam.01.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "v2.fam.-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "v2.f.a.m.0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "v2.fam.99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "v2.fam.0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
])
def test_malformed_tokens_open_to_nothing(token: str) -> None:
    assert RefreshTokenSeal(KEY).open(token) is None


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        RefreshTokenSeal(b"too short")


def test_tokens_of_the_first_format_are_not_sealed() -> None:
    assert not is_sealed(new_refresh_token())
