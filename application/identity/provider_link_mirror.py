"""Keeps the identity provider's linked Apple and Google sign-ins (Cognito's) in line with
this database, which decides. A link or unlink commits here with an outbox message naming
the identity; the clean-up relay then reads what the database says now and applies it, so
messages may arrive late, twice or out of order and the result is still the last word."""

import logging
from datetime import datetime
from typing import Any

from application.ports.images import Destinations, OutboxMessage
from application.ports.provider_links import LinkRefused, ProviderLinks
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.shared.ids import new_id
from domain.users.identities import LinkedIdentity, Provider

MIRROR_LINK = "identity.mirror_link"
SETTLE_ROUNDS = 3

log = logging.getLogger(__name__)


async def queue_link_mirror(uow: UnitOfWork, identity: LinkedIdentity, now: datetime) -> None:
    """In the caller's transaction: bring the provider's link of `identity` in line."""
    await uow.outbox.add(OutboxMessage(new_id(), MIRROR_LINK, {
        "provider": identity.provider.value, "subject": identity.subject}, now))


class LinkStillMoving(Exception):
    """The identity was linked or unlinked again while it was being mirrored; retried."""


class MirrorProviderLink:
    """Links the identity to the login of the user who holds it here, or unlinks it when
    nobody with a login holds it. Re-reads after acting: a change made meanwhile by another
    request is applied too, so two relays racing end on the database's state."""

    def __init__(self, uow_factory: UnitOfWorkFactory, links: ProviderLinks) -> None:
        self._uow_factory, self._links = uow_factory, links

    async def __call__(self, payload: dict[str, Any]) -> None:
        provider, subject = Provider(payload["provider"]), str(payload["subject"])
        wanted = await self._login_holding(provider, subject)
        for _ in range(SETTLE_ROUNDS):
            if wanted is None:
                await self._links.unlink_provider(provider, subject)
            else:
                try:
                    await self._links.link_provider(wanted, provider, subject)
                except LinkRefused as refused:
                    # Retrying forever would hold up every clean-up queued behind it.
                    log.error("%s sign-in not linked in the identity provider: %s",
                              provider.value, refused)
                    return
            now = await self._login_holding(provider, subject)
            if now == wanted:
                return
            wanted = now
        raise LinkStillMoving(f"{provider.value} identity kept changing")

    async def _login_holding(self, provider: Provider, subject: str) -> str | None:
        async with self._uow_factory() as uow:
            identity = await uow.identities.get(provider, subject)
            if identity is None:
                return None
            user = await uow.users.get(identity.user_id)
        return user.external_id if user is not None else None


def provider_link_mirror(uow_factory: UnitOfWorkFactory, links: ProviderLinks) -> Destinations:
    """The clean-up relay's destination for `identity.mirror_link`."""
    return {MIRROR_LINK: MirrorProviderLink(uow_factory, links)}
