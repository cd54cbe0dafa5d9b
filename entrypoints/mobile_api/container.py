"""The mobile API's composition root: the only place its adapters are built."""

from dependency_injector import containers, providers

from adapters.crypto.eddsa import EdDSASigner, EdDSAVerifier, generate_ed25519
from application.auth.authenticate import Authenticate
from application.auth.policy import AuthPolicy
from application.auth.principal_cache import CachedAuthenticator
from application.auth.tokens import TokenFactory
from application.identity.confirm_email import ConfirmEmail
from application.identity.create_guest import CreateGuest
from application.identity.devices import ListDevices, RevokeDevice
from application.identity.login import Login
from application.identity.logout import Logout
from application.identity.merge_guest import MergeGuest
from application.identity.profile import UpdateProfile
from application.identity.refresh import RefreshSession
from application.identity.register import Register
from application.identity.resend_code import ResendConfirmationCode
from application.images.delete_image import DeleteImage
from application.images.get_image import GetImage
from application.images.list_images import ListImages
from application.images.relay_outbox import RelayOutbox, to_job_queue
from application.images.request_image import RequestImage
from application.keys.manage_keys import RotateKeys
from application.transfers.issue_code import IssueTransferCode
from application.transfers.redeem_code import RedeemTransferCode
from domain.shared.clock import utcnow
from entrypoints.http_edge.rate_limit import Limit, RateLimits
from entrypoints.http_edge.readiness import readiness_check
from entrypoints.mobile_api.services import MobileServices
from entrypoints.wiring import builders, resources
from entrypoints.wiring.background import OutboxRelayRunner, WakeupEvent
from entrypoints.wiring.settings import Settings


def rate_limits(settings: Settings, limiter: object) -> RateLimits:
    minute, hour = 60.0, 3600.0
    return RateLimits(
        limiter=limiter,  # type: ignore[arg-type]
        default=Limit("ip", settings.rate_limit_default_per_minute, minute),
        trusted_hops=settings.trusted_proxy_hops,
        named={
            "guests": (Limit("guests", settings.rate_limit_guests_per_minute, minute),),
            "sessions": (Limit("sessions", settings.rate_limit_sessions_per_minute, minute),),
            "redeem": (
                Limit("redeem", settings.rate_limit_redeem_per_minute, minute),
                Limit("redeem", settings.rate_limit_redeem_global_per_hour, hour, global_=True),
            ),
        },
    )


class MobileContainer(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Object(utcnow)
    policy = providers.Singleton(lambda s: s.auth_policy(), settings)

    engine = providers.Resource(resources.open_engine, settings.provided.sql_url)
    aws = providers.Resource(resources.open_aws, settings)
    redis = providers.Resource(resources.open_redis, settings.provided.redis_url)

    uow_factory = providers.Singleton(builders.sql_uow_factory, engine)
    refresh_ledger = providers.Resource(builders.build_refresh_ledger, settings, uow_factory)
    key_store = providers.Resource(builders.build_key_store, settings, aws)
    rotate_keys = providers.Singleton(
        RotateKeys, key_store, providers.Object(generate_ed25519),
        providers.Singleton(lambda s: s.rotation_policy(), settings), clock)
    keyring = providers.Resource(builders.run_keyring, key_store, settings, rotate_keys)
    rate_limiter = providers.Singleton(builders.build_rate_limiter, redis)
    bus = providers.Singleton(builders.build_bus, redis)
    mailer = providers.Resource(builders.build_mailer, settings, aws)
    identity = providers.Resource(builders.build_identity, settings, aws, engine, mailer, clock)

    image_policy = providers.Singleton(lambda s: s.image_policy(), settings)
    job_queue = providers.Resource(builders.build_job_queue, settings, aws)
    object_store = providers.Resource(builders.build_object_store, settings, aws)
    relay_wakeup = providers.Singleton(WakeupEvent)
    outbox_relay = providers.Singleton(
        OutboxRelayRunner,
        providers.Singleton(RelayOutbox, uow_factory, providers.Singleton(to_job_queue, job_queue),
                            clock),
        relay_wakeup, settings.provided.outbox_poll_seconds)

    signer = providers.Singleton(EdDSASigner, keyring.provided.active)
    verifier = providers.Singleton(
        EdDSAVerifier, keyring.provided.public_key, settings.provided.issuer,
        providers.Object(AuthPolicy.ACCESS_AUDIENCE), providers.Object("at+jwt"),
        settings.provided.token_leeway_seconds)
    tokens = providers.Singleton(TokenFactory, signer, policy)
    authenticator = providers.Singleton(
        CachedAuthenticator, providers.Singleton(Authenticate, verifier, uow_factory, clock),
        settings.provided.auth_cache_seconds)
    # Sessions ended by another process (the admin API disabling a user) are forgotten here.
    ended_sessions = providers.Resource(resources.follow_ended_sessions, bus, authenticator)

    services = providers.Singleton(
        MobileServices,
        settings=settings,
        authenticate=authenticator,
        tokens=tokens,
        keyring=keyring,
        rate_limits=providers.Singleton(rate_limits, settings, rate_limiter),
        readiness=providers.Singleton(readiness_check, engine, redis, bus),
        create_guest=providers.Singleton(CreateGuest, uow_factory, tokens, policy, clock),
        register=providers.Singleton(
            Register, uow_factory, identity, tokens, policy, clock, authenticator),
        confirm_email=providers.Singleton(ConfirmEmail, uow_factory, identity, authenticator),
        resend_confirmation_code=providers.Singleton(
            ResendConfirmationCode, identity, rate_limiter),
        merge_guest=providers.Singleton(
            MergeGuest, uow_factory, identity, tokens, policy, clock, authenticator),
        login=providers.Singleton(Login, uow_factory, identity, tokens, policy, clock),
        refresh=providers.Singleton(
            RefreshSession, refresh_ledger, tokens, policy, clock, authenticator),
        logout=providers.Singleton(Logout, uow_factory, clock, authenticator),
        update_profile=providers.Singleton(UpdateProfile, uow_factory, authenticator),
        list_devices=providers.Singleton(ListDevices, uow_factory),
        revoke_device=providers.Singleton(RevokeDevice, uow_factory, clock, authenticator),
        issue_transfer_code=providers.Singleton(IssueTransferCode, uow_factory, policy, clock),
        redeem_transfer_code=providers.Singleton(
            RedeemTransferCode, uow_factory, tokens, policy, clock, authenticator),
        request_image=providers.Singleton(
            RequestImage, uow_factory, image_policy, clock, relay_wakeup),
        get_image=providers.Singleton(GetImage, uow_factory, object_store, image_policy),
        list_images=providers.Singleton(ListImages, uow_factory, object_store, image_policy),
        delete_image=providers.Singleton(DeleteImage, uow_factory, object_store, clock),
        signed_files=providers.Singleton(builders.signed_reader, object_store),
    )
