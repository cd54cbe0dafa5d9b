from typing import Any

from litestar import MediaType, Response, get
from litestar.datastructures import State

from entrypoints.mobile_api.auth import provide_services


@get("/.well-known/jwks.json", tags=["keys"], summary="Public keys that verify our tokens",
     include_in_schema=True)
async def jwks(state: State) -> Response[dict[str, Any]]:
    services = provide_services(state)
    keys = [key.jwk() for key in services.keyring.published()]
    max_age = services.settings.jwks_max_age_seconds
    return Response({"keys": keys}, media_type=MediaType.JSON,
                    headers={"Cache-Control": f"public, max-age={max_age}"})


@get("/healthz", tags=["system"], summary="Alive", opt={"skip_rate_limit": True})
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", tags=["system"], summary="Database and dependencies reachable",
     opt={"skip_rate_limit": True})
async def readyz(state: State) -> Response[dict[str, Any]]:
    checks = await provide_services(state).readiness()
    ready = all(v == "ok" for v in checks.values())
    return Response({"status": "ok" if ready else "unavailable", "checks": checks},
                    status_code=200 if ready else 503, media_type=MediaType.JSON)
