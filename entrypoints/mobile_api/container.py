"""The mobile API's composition root: its use cases, wired to the shared infrastructure."""

from dependency_injector import containers, providers

from application.auth.authenticate import Authenticate
from application.auth.principal_cache import CachedAuthenticator
from application.auth.session_events import BusSessionEvents
from application.auth.tokens import TokenFactory
from application.exports.request_export import GetExport, RequestExport
from application.identity.account import (
    ChangePassword,
    ConfirmEmailChange,
    ConfirmPasswordReset,
    RequestEmailChange,
    RequestPasswordReset,
)
from application.identity.account_cleanup import CleanupRelay, account_cleanup
from application.identity.apple_revocation import apple_revocation
from application.identity.confirm_email import ConfirmEmail
from application.identity.create_guest import CreateGuest
from application.identity.delete_account import DeleteAccount, EraseAccount
from application.identity.deletion_page import ConfirmDeletionByCode, RequestDeletionCode
from application.identity.devices import ListDevices, RevokeDevice
from application.identity.linked_identities import LinkIdentity, ListIdentities, UnlinkIdentity
from application.identity.login import Login
from application.identity.logout import Logout
from application.identity.merge_guest import MergeGuest
from application.identity.profile import UpdateProfile
from application.identity.provider_link_mirror import provider_link_mirror
from application.identity.provider_sign_in import SignInWithProvider
from application.identity.refresh import RefreshSession
from application.identity.register import Register
from application.identity.resend_code import ResendConfirmationCode
from application.images.delete_image import DeleteImage
from application.images.get_image import GetImage
from application.images.list_images import ListImages
from application.images.relay_outbox import RelayOutbox, combined, to_job_queue
from application.images.request_image import RequestImage
from application.transfers.issue_code import IssueTransferCode
from application.transfers.redeem_code import RedeemTransferCode
from entrypoints.http_edge.rate_limit import Limit, RateLimits
from entrypoints.http_edge.readiness import readiness_check
from entrypoints.wiring.background import OutboxRelayRunner, RevocationFollower, WakeupEvent
from entrypoints.wiring.settings import Settings
from entrypoints.wiring.tracing import traced_destinations


def rate_limits(settings: Settings, limiter: object) -> RateLimits:
    minute, hour = 60.0, 3600.0
    return RateLimits(
        limiter=limiter,  # type: ignore[arg-type]
        default=Limit("ip", settings.rate_limit_default_per_minute, minute),
        trusted_hops=settings.trusted_proxy_hops,
        named={
            "guests": (Limit("guests", settings.rate_limit_guests_per_minute, minute),),
            "sessions": (Limit("sessions", settings.rate_limit_sessions_per_minute, minute),),
            # Password reset, password and e-mail change: as strict as log-in, per IP.
            "account": (Limit("account", settings.rate_limit_sessions_per_minute, minute),),
            "redeem": (
                Limit("redeem", settings.rate_limit_redeem_per_minute, minute),
                Limit("redeem", settings.rate_limit_redeem_global_per_hour, hour, global_=True),
            ),
        },
    )


class MobileContainer(containers.DeclarativeContainer):
    """Handlers name what they use (`refresh_session: Injected[RefreshSession]`); each
    provider here is one of those names."""

    infrastructure = providers.DependenciesContainer()
    settings = infrastructure.settings
    uow_factory, clock, policy = (
        infrastructure.uow_factory, infrastructure.clock, infrastructure.policy)
    identity, image_policy = infrastructure.identity, infrastructure.image_policy

    rate_limits = providers.Singleton(rate_limits, settings, infrastructure.rate_limiter)
    readiness = providers.Singleton(
        readiness_check, infrastructure.uow_factory, infrastructure.redis, infrastructure.bus)
    published_keys = infrastructure.keyring
    signed_files = infrastructure.signed_files
    # metrics on their own port; the outbox relay's lag read at each scrape
    metrics, metrics_server = infrastructure.metrics, infrastructure.metrics_server
    outbox_lag = infrastructure.outbox_lag

    tokens = providers.Singleton(
        TokenFactory, infrastructure.signer, policy, infrastructure.refresh_token_seal)
    authenticator = providers.Singleton(
        CachedAuthenticator,
        providers.Singleton(Authenticate, infrastructure.access_verifier, uow_factory, clock),
        settings.provided.auth_cache_seconds)
    session_events = providers.Singleton(BusSessionEvents, infrastructure.bus, authenticator)
    # Sessions ended and keys revoked by another process are forgotten here at once.
    revocations = providers.Singleton(
        RevocationFollower, infrastructure.bus, authenticator, infrastructure.keyring)
    relay_wakeup = providers.Singleton(WakeupEvent)
    outbox_relay = providers.Singleton(
        OutboxRelayRunner,
        providers.Singleton(
            RelayOutbox, uow_factory,
            providers.Singleton(traced_destinations,
                                providers.Singleton(to_job_queue, infrastructure.job_queue)),
            clock),
        relay_wakeup, settings.provided.outbox_poll_seconds)

    create_guest = providers.Singleton(CreateGuest, uow_factory, tokens, policy, clock)
    register = providers.Singleton(
        Register, uow_factory, identity, tokens, policy, clock, authenticator)
    confirm_email = providers.Singleton(ConfirmEmail, uow_factory, identity, authenticator)
    resend_confirmation_code = providers.Singleton(
        ResendConfirmationCode, identity, infrastructure.rate_limiter)
    merge_guest = providers.Singleton(
        MergeGuest, uow_factory, identity, tokens, policy, clock, session_events)
    login = providers.Singleton(Login, uow_factory, identity, tokens, policy, clock)
    refresh_session = providers.Singleton(
        RefreshSession, infrastructure.refresh_ledger, tokens, policy, clock, session_events,
        metrics)
    logout = providers.Singleton(Logout, uow_factory, clock, session_events)
    update_profile = providers.Singleton(UpdateProfile, uow_factory, authenticator)
    list_devices = providers.Singleton(ListDevices, uow_factory)
    revoke_device = providers.Singleton(RevokeDevice, uow_factory, clock, session_events)
    issue_transfer_code = providers.Singleton(IssueTransferCode, uow_factory, policy, clock)
    redeem_transfer_code = providers.Singleton(
        RedeemTransferCode, uow_factory, tokens, policy, clock, session_events)
    request_image = providers.Singleton(
        RequestImage, uow_factory, image_policy, clock, relay_wakeup)
    get_image = providers.Singleton(
        GetImage, uow_factory, infrastructure.object_store, image_policy)
    list_images = providers.Singleton(
        ListImages, uow_factory, infrastructure.object_store, image_policy)
    delete_image = providers.Singleton(
        DeleteImage, uow_factory, infrastructure.object_store, clock)

    # Account lifecycle: password reset, password change, e-mail change.
    request_password_reset = providers.Singleton(RequestPasswordReset, identity)
    confirm_password_reset = providers.Singleton(
        ConfirmPasswordReset, uow_factory, identity, clock, session_events)
    change_password = providers.Singleton(
        ChangePassword, uow_factory, identity, policy, clock, session_events)
    request_email_change = providers.Singleton(
        RequestEmailChange, uow_factory, identity, policy, clock)
    confirm_email_change = providers.Singleton(
        ConfirmEmailChange, uow_factory, identity, infrastructure.mailer, authenticator)

    # Account deletion (DELETE /me and the public deletion page).
    # Stored pictures and the identity provider's user, retried until done.
    cleanup_wakeup = providers.Singleton(WakeupEvent)
    cleanup_relay = providers.Singleton(
        OutboxRelayRunner,
        providers.Singleton(
            CleanupRelay, uow_factory,
            providers.Singleton(
                combined,
                providers.Singleton(account_cleanup, infrastructure.object_store, identity),
                # Linked Apple and Google sign-ins, mirrored into Cognito.
                providers.Singleton(provider_link_mirror, uow_factory, identity),
                providers.Singleton(apple_revocation, infrastructure.apple_tokens)),
            clock),
        cleanup_wakeup, settings.provided.outbox_poll_seconds)
    erase_account = providers.Singleton(
        EraseAccount, uow_factory, clock, session_events, identity, cleanup_wakeup)
    delete_account = providers.Singleton(
        DeleteAccount, uow_factory, identity, policy, clock, erase_account,
        infrastructure.apple_tokens)
    request_deletion_code = providers.Singleton(
        RequestDeletionCode, uow_factory, infrastructure.deletion_codes, infrastructure.mailer,
        infrastructure.rate_limiter, clock)
    confirm_deletion_by_code = providers.Singleton(
        ConfirmDeletionByCode, uow_factory, infrastructure.deletion_codes, erase_account, clock)

    # Sign in with Apple and Google; the providers linked to a member.
    sign_in_with_provider = providers.Singleton(
        SignInWithProvider, uow_factory, infrastructure.provider_tokens, tokens, policy, clock,
        authenticator)
    list_identities = providers.Singleton(ListIdentities, uow_factory)
    link_identity = providers.Singleton(
        LinkIdentity, uow_factory, infrastructure.provider_tokens, clock, cleanup_wakeup)
    unlink_identity = providers.Singleton(UnlinkIdentity, uow_factory, clock, cleanup_wakeup)

    # Data exports: the row and its job here; the image worker builds the zip.
    request_export = providers.Singleton(
        RequestExport, uow_factory, clock, infrastructure.exports_wakeup)
    get_export = providers.Singleton(
        GetExport, uow_factory, infrastructure.object_store, image_policy, clock)
