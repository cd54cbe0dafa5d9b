from collections.abc import Callable

from application.auth.policy import AuthPolicy
from application.ports.clock import Clock
from application.ports.images import ObjectStore
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.guests.rules import is_purgeable, purge_cutoff

BATCH = 200
ALL_IMAGES = 100_000


class PurgeGuests:
    """Deletes guests idle longer than the policy allows, with their images and stored
    pictures, unless a transfer code for them is live. Safe to run on a schedule."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, store: ObjectStore, policy: AuthPolicy,
        clock: Clock,
    ) -> None:
        self._uow_factory, self._store, self._policy, self._clock = (
            uow_factory, store, policy, clock)

    async def __call__(self, progress: Callable[[int], None] = lambda purged: None) -> int:
        """How many guests were purged; `progress` hears the count as it grows."""
        now = self._clock()
        cutoff = purge_cutoff(now, self._policy.guest_inactivity)
        purged, stored = 0, []
        async with self._uow_factory() as uow:
            for guest in await uow.users.idle_guests(cutoff, BATCH * 50):
                live = await uow.transfer_codes.live_for_user(guest.id, now)
                if not is_purgeable(guest, now, self._policy.guest_inactivity, bool(live)):
                    continue
                images = await uow.images.search(None, guest.id, ALL_IMAGES, None)
                stored += [job.object_key for job in images if job.object_key]
                await uow.users.delete(guest.id)  # images, devices, sessions: by cascade
                purged += 1
                progress(purged)
            await uow.commit()
        # After the commit: a crash in between leaves orphan objects, never a dangling row.
        for key in stored:
            await self._store.delete(key)
        return purged
