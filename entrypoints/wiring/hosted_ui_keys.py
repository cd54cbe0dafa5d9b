"""The user pool's RSA signing keys for the console's hosted UI sign-in (ID tokens)."""

from typing import TYPE_CHECKING

import httpx

from entrypoints.wiring.settings import Settings

if TYPE_CHECKING:
    from adapters.jwks.source import HttpJwksSource


def hosted_ui_keys(settings: Settings, client: httpx.AsyncClient) -> "HttpJwksSource":
    """Fetched from the pool's JWKS URL when a kid is first seen (one coalesced refetch per
    cooldown after that), never from a token's hints."""
    from adapters.jwks.provider_tokens import parse_rsa_jwks
    from adapters.jwks.source import HttpJwksSource

    return HttpJwksSource(
        client, settings.cognito_jwks_url, settings.cognito_issuer,
        refetch_cooldown=settings.jwks_refetch_cooldown_seconds,
        max_bytes=settings.jwks_max_bytes, parse=parse_rsa_jwks)
