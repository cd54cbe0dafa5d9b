"""The gateway app under uvicorn exactly as `atelier serve gateway` runs it, optionally with
token verification replaced by a no-op, for the handshake-rate bench; or (`--cryptography`)
with the Ed25519 check itself done by `cryptography` instead of libsodium, as before."""

import argparse
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from dependency_injector import providers
from nacl.exceptions import BadSignatureError

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


def verify_with_cryptography() -> None:
    """The Ed25519 check done by `cryptography` (OpenSSL), as the gateway did before it used
    libsodium; everything else in the verification is unchanged."""
    import adapters.crypto.eddsa as eddsa

    keys: dict[bytes, Ed25519PublicKey] = {}

    def check(signed: bytes, raw: bytes) -> bytes:
        key = keys.get(raw)
        if key is None:
            key = keys[raw] = Ed25519PublicKey.from_public_bytes(raw)
        try:
            key.verify(signed[:64], signed[64:])
        except InvalidSignature:
            raise BadSignatureError from None
        return signed[64:]

    eddsa.crypto_sign_open = check  # type: ignore[assignment]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--cryptography", action="store_true")
    args = parser.parse_args()
    if args.cryptography:
        verify_with_cryptography()
    settings = Settings()
    container = GatewayContainer(infrastructure=Infrastructure(settings=settings))
    if args.no_verify:
        container.admission.override(providers.Object(NoVerification()))
    _uvicorn(create_app(container), "127.0.0.1", args.port, **_gateway_options(settings))
