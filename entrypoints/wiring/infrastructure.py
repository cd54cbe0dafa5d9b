"""The infrastructure every deployable shares: each port's adapter, built once per process.

Entrypoint containers take this container as their `infrastructure` dependency and wire
use cases only; `atelier dev` hands one instance to every entrypoint it mounts. Resources
start when first used, so a process starts only what its use cases need (the gateway
opens no database), and `shutdown_resources()` closes what was started, once.
"""

from dependency_injector import containers, providers

from adapters.crypto.argon2_hasher import Argon2PasswordHasher
from adapters.crypto.eddsa import EdDSASigner, EdDSAVerifier, generate_ed25519
from application.auth.policy import AuthPolicy
from application.keys.manage_keys import RotateKeys
from domain.shared.clock import utcnow
from entrypoints.wiring import builders, resources
from entrypoints.wiring import metrics as observed
from entrypoints.wiring.background import WakeupEvent
from entrypoints.wiring.settings import Settings


class Infrastructure(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Object(utcnow)
    policy = providers.Singleton(Settings.auth_policy, settings)
    image_policy = providers.Singleton(Settings.image_policy, settings)
    rotation_policy = providers.Singleton(Settings.rotation_policy, settings)

    # this process's metrics, served on their own port by whichever app starts first
    metrics = providers.Singleton(observed.build_metrics, settings)
    metrics_server = providers.Resource(observed.serve_metrics, settings, metrics)

    # long-lived clients
    engine = providers.Resource(resources.open_engine, settings.provided.sql_url)
    aws = providers.Resource(resources.open_aws, settings)
    redis = providers.Resource(resources.open_redis, settings.provided.redis_url)

    # storage
    uow_factory = providers.Singleton(builders.sql_uow_factory, engine)
    refresh_ledger = providers.Resource(builders.build_refresh_ledger, settings, uow_factory)

    # the realtime bus: messages to every node (revocations among them)
    bus = providers.Singleton(builders.build_bus, redis, settings)
    # how many sockets the gateway nodes hold open (None: nobody can tell)
    socket_census = providers.Singleton(builders.build_socket_census, redis, settings)

    # signing keys and the tokens they sign
    key_store = providers.Resource(builders.build_key_store, settings, aws)
    generate_key = providers.Object(generate_ed25519)
    rotate_keys = providers.Singleton(
        RotateKeys, key_store, generate_key, rotation_policy, clock)
    keyring = providers.Resource(builders.run_keyring, key_store, settings, rotate_keys, bus)
    signer = providers.Singleton(EdDSASigner, keyring.provided.active)
    refresh_token_seal = providers.Singleton(builders.build_refresh_token_seal, settings)
    access_verifier = providers.Singleton(
        EdDSAVerifier, keyring.provided.public_key, settings.provided.issuer,
        providers.Object(AuthPolicy.ACCESS_AUDIENCE), providers.Object("at+jwt"),
        settings.provided.token_leeway_seconds,
        max_lifetime=settings.provided.access_token_ttl_seconds)
    admin_tokens = providers.Resource(builders.build_admin_tokens, settings, keyring, uow_factory)
    password_hasher = providers.Singleton(
        Argon2PasswordHasher, settings.provided.password_hash_time_cost,
        settings.provided.password_hash_memory_kib)

    # messaging and identity
    rate_limiter = providers.Singleton(builders.build_rate_limiter, redis)
    mailer = providers.Resource(builders.build_mailer, settings, aws)
    # the identity provider's admins, re-checked during console sessions (None: local)
    admin_directory = providers.Resource(builders.build_admin_directory, settings, aws)
    identity = providers.Resource(
        builders.build_identity, settings, aws, engine, uow_factory, mailer, clock,
        password_hasher)

    # Sign in with Apple and Google: each enabled provider's ID tokens and published keys
    provider_tokens = providers.Resource(builders.run_provider_tokens, settings)
    # and, on account deletion, the app's Apple authorization revoked
    apple_tokens = providers.Resource(builders.run_apple_tokens, settings)

    # the public account-deletion page's e-mailed codes
    deletion_codes = providers.Singleton(builders.build_deletion_codes, engine)

    # retention: batch deletes of rows no rule needs any more
    retention_store = providers.Singleton(builders.build_retention_store, engine)

    # images
    object_store = providers.Resource(builders.build_object_store, settings, aws)
    signed_files = providers.Singleton(builders.signed_reader, object_store)
    job_queue = providers.Resource(builders.build_job_queue, settings, aws)
    generator = providers.Singleton(
        observed.TimedImageGenerator, providers.Resource(builders.build_generator, settings),
        metrics)

    # gauges read at each scrape: the outbox relay's lag (API), the queue's depth (worker)
    outbox_lag = providers.Singleton(observed.watch_outbox_lag, metrics, engine, clock)
    queue_depth = providers.Singleton(observed.watch_queue_depth, metrics, job_queue)

    # the realtime edge: the origin's public keys, as a gateway sees them
    realtime_jwks = providers.Resource(builders.run_realtime_jwks, settings, metrics=metrics)
    realtime_verifier = providers.Singleton(
        EdDSAVerifier, realtime_jwks.provided.public_key, settings.provided.issuer,
        providers.Object(AuthPolicy.REALTIME_AUDIENCE), providers.Object("JWT"),
        settings.provided.gateway_token_leeway_seconds,
        max_lifetime=settings.provided.connection_token_ttl_seconds)

    # On ECS behind an ALB: the gateway's own target in its target group, which the node
    # watches to drain with its deregistration (None: not watched). Its client is `aws`'s,
    # started only when the target group is set.
    target_health = providers.Singleton(builders.build_target_health, settings, aws.provider)

    # Data exports: POST /me/exports wakes the worker's export relay when both run in one
    # process (`atelier dev`); a worker of its own finds the job at its next poll.
    exports_wakeup = providers.Singleton(WakeupEvent)
