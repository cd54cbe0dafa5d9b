from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from litestar import MediaType, Response, get

from domain.keys.model import SigningKey
from entrypoints.wiring.di import Injected
from entrypoints.wiring.settings import Settings

ReadinessCheck = Callable[[], Awaitable[dict[str, Any]]]


class PublishedKeys(Protocol):
    def published(self) -> list[SigningKey]:
        """The keys a verifier may meet: next, active and retiring ones."""
        ...


@get("/.well-known/jwks.json", tags=["keys"], summary="Public keys that verify our tokens",
     include_in_schema=True)
async def jwks(
    published_keys: Injected[PublishedKeys], settings: Injected[Settings]
) -> Response[dict[str, Any]]:
    """The public keys (Ed25519, JWKS) that verify the tokens this service signs: the next, the
    active and the retiring ones. Cache it as `Cache-Control` says."""
    keys = [key.jwk() for key in published_keys.published()]
    max_age = settings.jwks_max_age_seconds
    return Response({"keys": keys}, media_type=MediaType.JSON,
                    headers={"Cache-Control": f"public, max-age={max_age}"})


@get("/healthz", tags=["system"], summary="Alive", opt={"skip_rate_limit": True})
async def healthz() -> dict[str, str]:
    """The process is alive (for the load balancer); checks nothing else."""
    return {"status": "ok"}


@get("/readyz", tags=["system"], summary="Database and dependencies reachable",
     opt={"skip_rate_limit": True})
async def readyz(readiness: Injected[ReadinessCheck]) -> Response[dict[str, Any]]:
    """Whether the database and the other dependencies answer; 503 with the failing checks
    otherwise."""
    checks = await readiness()
    ready = all(v == "ok" for v in checks.values())
    return Response({"status": "ok" if ready else "unavailable", "checks": checks},
                    status_code=200 if ready else 503, media_type=MediaType.JSON)
