from datetime import datetime

from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.sessions.model import RefreshFamily
from domain.shared.errors import ConcurrentUpdate
from domain.users.model import User


class UnitOfWorkRefreshLedger:
    """The refresh ledger over any Unit of Work: one transaction to read, one to write."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def rotate(
        self, family_id: str, generation: int, token_hash: str, device_id: str,
        successor_hash: str, nonce: bytes, now: datetime,
    ) -> tuple[RefreshFamily, User] | None:
        async with self._uow_factory() as uow:
            found = await _with_user(uow, await uow.sessions.get(family_id))
            if found is None:
                return None
            family, user = found
            if not (family.generation == generation and user.is_active
                    and family.rotates_on(token_hash, device_id, now)):
                return None
            family.rotate_to(successor_hash, nonce, now)
            try:
                await uow.sessions.update(family, generation)
            except ConcurrentUpdate:
                return None  # another request rotated first: the two-step path decides
            if user.touch(now):
                await uow.users.update(user)
            await uow.commit()
        return family, user

    async def find(self, family_id: str) -> tuple[RefreshFamily, User] | None:
        async with self._uow_factory() as uow:
            return await _with_user(uow, await uow.sessions.get(family_id))

    async def find_by_first_format(self, token_hash: str) -> tuple[RefreshFamily, User] | None:
        async with self._uow_factory() as uow:
            return await _with_user(uow, await uow.sessions.get_by_token_hash(token_hash))

    async def record(
        self, family: RefreshFamily, expected_generation: int, seen_at: datetime | None = None
    ) -> None:
        async with self._uow_factory() as uow:
            await uow.sessions.update(family, expected_generation)
            if seen_at is not None:
                user = await uow.users.get(family.user_id)
                if user is not None and user.touch(seen_at):
                    await uow.users.update(user)
            await uow.commit()


async def _with_user(
    uow: UnitOfWork, family: RefreshFamily | None
) -> tuple[RefreshFamily, User] | None:
    user = await uow.users.get(family.user_id) if family is not None else None
    return (family, user) if family is not None and user is not None else None
