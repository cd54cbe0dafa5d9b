"""The outside parts of a deleted account, delivered by the outbox relay until they
succeed. Each is idempotent: deleting a missing object or login succeeds, and both are
named by ids no later account can have (the user id in every object key, the provider's
subject), so a late retry never touches someone who registered the address since."""

import logging
from typing import Any

from application.images.relay_outbox import GIVE_UP_BATCH_AFTER, RelayIncomplete, RelayOutbox
from application.ports.images import Destinations, ObjectStore
from application.ports.login_deletion import LoginDeletion

DELETE_OBJECTS = "account.delete_objects"
DELETE_LOGIN = "account.delete_login"

log = logging.getLogger(__name__)


def account_cleanup(store: ObjectStore, logins: LoginDeletion) -> Destinations:
    """What the mobile API's clean-up relay does with what a deleted account leaves
    outside the database."""

    async def delete_objects(payload: dict[str, Any]) -> None:
        owned = (f"images/{payload['user_id']}/", f"exports/{payload['user_id']}/")
        for key in payload["keys"]:
            if str(key).startswith(owned):  # only ever the deleted user's own objects
                await store.delete(str(key))

    async def delete_login(payload: dict[str, Any]) -> None:
        await logins.delete_login(str(payload["subject"]))

    return {DELETE_OBJECTS: delete_objects, DELETE_LOGIN: delete_login}


class CleanupRelay(RelayOutbox):
    """Delivers the clean-up topics outside the claiming transaction: a slow or hanging S3
    or Cognito call holds no database connection (the embedded SQLite has one, and the
    local provider's own store needs it). Two relays may then both deliver a message;
    every handler here is idempotent, so that changes nothing."""

    async def __call__(self) -> int:
        async with self._uow_factory() as uow:
            claimed = await uow.outbox.claim(self._topics, self._batch)
        delivered = failures = 0
        for message in claimed:
            try:
                await self._destinations[message.topic](message.payload)
            except Exception as error:
                log.warning("outbox %s (%s) not delivered: %r", message.id, message.topic, error)
                async with self._uow_factory() as uow:
                    await uow.outbox.record_failure(message.id)
                    await uow.commit()
                failures += 1
                if failures >= GIVE_UP_BATCH_AFTER:
                    break
                continue
            async with self._uow_factory() as uow:
                await uow.outbox.mark_published(message.id, self._clock())
                await uow.commit()
            delivered += 1
        if failures:
            raise RelayIncomplete(delivered, failures)
        return delivered
