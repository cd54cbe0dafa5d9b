from collections.abc import Awaitable, Callable

from application.admin.acting import Acting
from application.keys.manage_keys import RevokeKey, RotateKeys
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory

Reload = Callable[[], Awaitable[None]]


class RotateKeysNow:
    """`atelier keys rotate` from the console: moves only as far as the timing allows."""

    def __init__(
        self, rotate: RotateKeys, uow_factory: UnitOfWorkFactory, clock: Clock, reload: Reload
    ) -> None:
        self._rotate, self._uow_factory, self._clock, self._reload = (
            rotate, uow_factory, clock, reload)

    async def __call__(self, acting: Acting) -> list[str]:
        moves = await self._rotate()
        await self._reload()
        async with self._uow_factory() as uow:
            await uow.audit.append(acting.entry(
                "keys.rotated", "keys", "signing", self._clock(), moves=moves))
            await uow.commit()
        return moves


class RevokeSigningKey:
    """Emergency revocation; a revoked active key is replaced at once so signing goes on."""

    def __init__(
        self, revoke: RevokeKey, rotate: RotateKeys, uow_factory: UnitOfWorkFactory,
        clock: Clock, reload: Reload,
    ) -> None:
        self._revoke, self._rotate, self._uow_factory = revoke, rotate, uow_factory
        self._clock, self._reload = clock, reload

    async def __call__(self, acting: Acting, kid: str) -> list[str]:
        await self._revoke(kid)
        moves = [f"revoked {kid}", *await self._rotate()]
        await self._reload()
        async with self._uow_factory() as uow:
            await uow.audit.append(acting.entry(
                "key.revoked", "key", kid, self._clock(), moves=moves))
            await uow.commit()
        return moves
