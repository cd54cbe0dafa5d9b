"""The edge gateway's composition root: the only place its adapters are built."""

from collections.abc import AsyncIterator

import httpx
from dependency_injector import containers, providers

from adapters.crypto.eddsa import EdDSAVerifier
from adapters.jwks.source import HttpJwksSource
from application.auth.policy import AuthPolicy
from entrypoints.edge_gateway.admission import TokenAdmission, TokenBucket
from entrypoints.edge_gateway.gateway import Gateway, GatewayLimits
from entrypoints.edge_gateway.hub import ConnectionHub
from entrypoints.wiring import builders, resources
from entrypoints.wiring.settings import Settings


async def open_http_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: the JWKS URL is fixed in config; no proxy or .netrc may redirect it.
    async with httpx.AsyncClient(
        timeout=settings.jwks_timeout_seconds, follow_redirects=False, trust_env=False,
        limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
    ) as client:
        yield client


async def run_jwks(client: httpx.AsyncClient, settings: Settings) -> AsyncIterator[HttpJwksSource]:
    source = HttpJwksSource(
        client, settings.gateway_jwks_url, settings.issuer,
        refetch_cooldown=settings.jwks_refetch_cooldown_seconds,
        default_max_age=settings.jwks_max_age_seconds, max_bytes=settings.jwks_max_bytes)
    async with source.running():
        yield source


def build_gateway_bus(redis: object, settings: Settings) -> object:
    if redis is not None:
        from adapters.redis.bus import RedisRealtimeBus

        return RedisRealtimeBus(
            redis, prefix=settings.realtime_bus_prefix,  # type: ignore[arg-type]
            backoff=settings.gateway_bus_backoff_seconds,
            max_backoff=settings.gateway_bus_max_backoff_seconds)
    return builders.build_bus(None)


class GatewayContainer(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    redis = providers.Resource(resources.open_redis, settings.provided.redis_url)
    bus = providers.Singleton(build_gateway_bus, redis, settings)
    http_client = providers.Resource(open_http_client, settings)
    jwks = providers.Resource(run_jwks, http_client, settings)

    verifier = providers.Singleton(
        EdDSAVerifier, jwks.provided.public_key, settings.provided.issuer,
        providers.Object(AuthPolicy.REALTIME_AUDIENCE), providers.Object("JWT"),
        settings.provided.gateway_token_leeway_seconds,
        max_lifetime=settings.provided.connection_token_ttl_seconds)
    admission = providers.Singleton(TokenAdmission, verifier, jwks)
    hub = providers.Singleton(ConnectionHub, settings.provided.gateway_send_queue_size)
    limits = providers.Singleton(
        GatewayLimits,
        max_connections=settings.provided.gateway_max_connections,
        max_inbound_bytes=settings.provided.gateway_max_inbound_bytes,
        max_connection_age=settings.provided.gateway_max_connection_age_seconds,
        max_sockets_per_token=settings.provided.gateway_max_sockets_per_token,
        max_sockets_per_address=settings.provided.gateway_max_sockets_per_ip,
        trusted_hops=settings.provided.trusted_proxy_hops)
    handshakes = providers.Singleton(
        TokenBucket, settings.provided.gateway_handshakes_per_second,
        settings.provided.gateway_handshake_burst)
    gateway = providers.Singleton(Gateway, admission, hub, bus, jwks, handshakes, limits)
