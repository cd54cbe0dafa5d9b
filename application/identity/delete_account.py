"""Deleting an account: its rows go in one transaction, with outbox messages for the parts
that live elsewhere (stored pictures, the identity provider's user); see account_cleanup."""

import logging
from enum import StrEnum
from typing import Any

from application.auth.authenticate import Principal
from application.auth.policy import AuthPolicy
from application.identity.account_cleanup import DELETE_LOGIN, DELETE_OBJECTS
from application.identity.apple_revocation import REVOKE_APPLE, revocation_for
from application.identity.password_check import check_password_login
from application.identity.provider_link_mirror import queue_link_mirror
from application.ports.apple_tokens import AppleTokens
from application.ports.clock import Clock
from application.ports.identity import EmailNotConfirmed, IdentityProvider, InvalidCredentials
from application.ports.images import OutboxMessage, Wakeup
from application.ports.login_deletion import LoginDeletion
from application.ports.messaging import SessionEvents
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.admins.model import AuditEntry
from domain.exports.model import export_key_for
from domain.images.model import object_key_for
from domain.shared.errors import InvalidInput
from domain.shared.ids import new_id

log = logging.getLogger(__name__)

ACCOUNT_DELETED = "account.deleted"
ALL_IMAGES = 1_000_000


class DeletedVia(StrEnum):
    """How the user asked: in the app (DELETE /me) or on the public deletion page."""

    APP = "app"
    WEB_PAGE = "web page"


class PasswordRequired(InvalidInput):
    """A member confirms the deletion with the account's password."""

    code = "password_required"


class EraseAccount:
    """Deletes a user's rows and queues the outside clean-up, in one transaction; the
    user's sessions end on every node. A user already gone is left as it is."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, session_events: SessionEvents,
        logins: LoginDeletion, relay: Wakeup,
    ) -> None:
        self._uow_factory, self._clock, self._session_events = uow_factory, clock, session_events
        self._logins, self._relay = logins, relay

    async def __call__(
        self, user_id: str, via: DeletedVia, apple_revocation: dict[str, Any] | None = None
    ) -> None:
        """`apple_revocation`: what to revoke at Apple (see apple_revocation), if anything."""
        now = self._clock()
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                return
            jobs = await uow.images.search(None, user.id, ALL_IMAGES, None)
            # Every image's deterministic key, stored or not: a worker may have put one just
            # before a crash. Keys name the user id, which no later account ever has.
            keys = [object_key_for(user.id, job.id) for job in jobs] + [
                export_key_for(user.id, export_id)
                for export_id in await uow.exports.ids_for_user(user.id)]
            linked = await uow.identities.for_user(user.id)
            await uow.users.delete(user.id)  # devices, sessions, codes, images: by cascade
            if keys:
                await uow.outbox.add(OutboxMessage(
                    new_id(), DELETE_OBJECTS, {"user_id": user.id, "keys": keys}, now))
            if user.external_id is not None:
                # Its Apple and Google links at the provider go too, in any order.
                for identity in linked:
                    await queue_link_mirror(uow, identity, now)
                await uow.outbox.add(OutboxMessage(
                    new_id(), DELETE_LOGIN, {"subject": user.external_id}, now))
            if apple_revocation is not None:
                await uow.outbox.add(OutboxMessage(new_id(), REVOKE_APPLE, apple_revocation, now))
            await uow.audit.append(AuditEntry(
                now, f"user:{user.id}", ACCOUNT_DELETED, "user", user.id,
                details={"kind": user.kind.value, "via": via.value}))
            await uow.commit()
        await self._session_events.sessions_ended(user.id)
        self._relay.wake()
        if user.external_id is not None:
            await self._free_address_now(user.external_id)

    async def _free_address_now(self, subject: str) -> None:
        """The address may register again at once; if the provider is down, the outbox
        message deletes the login when it is back."""
        try:
            await self._logins.delete_login(subject)
        except Exception as error:
            log.warning("identity provider login not deleted yet (the outbox retries): %r",
                        error)


class DeleteAccount:
    """DELETE /me: a member confirms with the password (counted like a log-in, behind the
    same lock-out); a guest's bearer token is enough. An Apple authorization code sent with
    it revokes the app's Sign in with Apple authorization too."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, identity: IdentityProvider, policy: AuthPolicy,
        clock: Clock, erase: EraseAccount, apple: AppleTokens,
    ) -> None:
        self._uow_factory, self._identity, self._policy = uow_factory, identity, policy
        self._clock, self._erase, self._apple = clock, erase, apple

    async def __call__(
        self, caller: Principal, password: str | None, client_ip: str,
        apple_code: str | None = None,
    ) -> None:
        user = caller.user
        # Apple and Google members have no password: like a guest, the bearer is enough.
        if not user.is_guest and user.has_password:
            if not password:
                raise PasswordRequired()
            if user.email is None:
                raise InvalidCredentials()
            subject: str | None
            try:
                subject = await check_password_login(
                    self._uow_factory, self._identity, self._policy, self._clock,
                    user.email, password, client_ip)
            except EmailNotConfirmed:
                subject = user.external_id  # the password was right; unconfirmed may leave
            if subject != user.external_id:
                raise InvalidCredentials()
        await self._erase(user.id, DeletedVia.APP, await revocation_for(self._apple, apple_code))
