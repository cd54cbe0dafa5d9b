"""The gateway app under uvicorn exactly as `atelier serve gateway` runs it, optionally with
token verification replaced by a no-op, for the handshake-rate bench; or (`--sodium`, a
what-if) with the Ed25519 check itself done by libsodium (the system's libsodium.so.23,
through ctypes) instead of `cryptography`, everything else in the verification unchanged."""

import argparse
import ctypes
import secrets
from typing import Any

from dependency_injector import providers

from entrypoints.cli.commands import _gateway_options, _uvicorn
from entrypoints.edge_gateway.admission import Admitted
from entrypoints.edge_gateway.app import create_app
from entrypoints.edge_gateway.container import GatewayContainer
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings


class NoVerification:
    """Admits every token without looking at it, granting what a verified token grants (its
    user's channel and `broadcast`), so that only the verification differs."""

    async def admit(self, token: str) -> Admitted:
        subject = f"bench-{secrets.token_hex(8)}"
        return Admitted("none", ("broadcast", f"user:{subject}"), subject, None,
                        secrets.token_hex(8))


class SodiumKey:
    """An Ed25519 public key whose `verify` is libsodium's `crypto_sign_verify_detached`."""

    __slots__ = ("_raw", "_verify")

    def __init__(self, key: Any, verify: Any) -> None:
        self._raw, self._verify = key.public_bytes_raw(), verify

    def verify(self, signature: bytes, data: bytes) -> None:
        from cryptography.exceptions import InvalidSignature

        if len(signature) != 64 or self._verify(signature, data, len(data), self._raw) != 0:
            raise InvalidSignature


def verify_with_libsodium() -> None:
    from adapters.jwks.source import HttpJwksSource

    sodium = ctypes.CDLL("libsodium.so.23")
    if sodium.sodium_init() < 0:
        raise SystemExit("libsodium failed to start")
    verify = sodium.crypto_sign_ed25519_verify_detached
    verify.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p]
    looked_up = HttpJwksSource.public_key
    keys: dict[int, SodiumKey] = {}

    def public_key(self: HttpJwksSource, kid: str) -> Any:
        key = looked_up(self, kid)
        if key is None:
            return None
        if id(key) not in keys:
            keys[id(key)] = SodiumKey(key, verify)
        return keys[id(key)]

    HttpJwksSource.public_key = public_key  # type: ignore[method-assign]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--sodium", action="store_true")
    args = parser.parse_args()
    if args.sodium:
        verify_with_libsodium()
    settings = Settings()
    container = GatewayContainer(infrastructure=Infrastructure(settings=settings))
    if args.no_verify:
        container.admission.override(providers.Object(NoVerification()))
    _uvicorn(create_app(container), "127.0.0.1", args.port, **_gateway_options(settings))
