from application.auth.policy import AuthPolicy, Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.guests.rules import is_purgeable, purge_cutoff

BATCH = 200


class PurgeGuests:
    """Deletes guests idle longer than the policy allows, unless a transfer code is live."""

    def __init__(self, uow_factory: UnitOfWorkFactory, policy: AuthPolicy, clock: Clock) -> None:
        self._uow_factory, self._policy, self._clock = uow_factory, policy, clock

    async def __call__(self) -> int:
        now = self._clock()
        cutoff = purge_cutoff(now, self._policy.guest_inactivity)
        purged = 0
        async with self._uow_factory() as uow:
            for guest in await uow.users.idle_guests(cutoff, BATCH * 50):
                live = await uow.transfer_codes.live_for_user(guest.id, now)
                if is_purgeable(guest, now, self._policy.guest_inactivity, bool(live)):
                    await uow.users.delete(guest.id)
                    purged += 1
            await uow.commit()
        return purged
