"""The edge gateway's composition root: its parts, wired to the shared infrastructure."""

from dependency_injector import containers, providers

from entrypoints.edge_gateway.admission import TokenAdmission, TokenBucket
from entrypoints.edge_gateway.census import node_name
from entrypoints.edge_gateway.gateway import Gateway, GatewayLimits
from entrypoints.edge_gateway.hub import ConnectionHub


class GatewayContainer(containers.DeclarativeContainer):
    infrastructure = providers.DependenciesContainer()
    settings = infrastructure.settings
    jwks = infrastructure.realtime_jwks

    admission = providers.Singleton(TokenAdmission, infrastructure.realtime_verifier, jwks)
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
    metrics, metrics_server = infrastructure.metrics, infrastructure.metrics_server
    gateway = providers.Singleton(
        Gateway, admission, hub, infrastructure.bus, jwks, handshakes, limits, metrics)
    # this node's open-socket count, reported for the console's overview
    census = infrastructure.socket_census
    node = providers.Singleton(node_name)
    census_interval = settings.provided.gateway_census_interval_seconds
    # on ECS behind an ALB: this task's target, watched so the drain starts with its
    # deregistration, not after it (None: not watched)
    target_health = infrastructure.target_health
    target_poll = settings.provided.gateway_target_health_poll_seconds
    drain_seconds = settings.provided.gateway_drain_seconds
