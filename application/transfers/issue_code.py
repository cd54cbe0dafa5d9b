from dataclasses import dataclass
from datetime import datetime

from application.auth.authenticate import Principal
from application.auth.policy import AuthPolicy
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.transfers.model import TransferCode


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime


class IssueTransferCode:
    """A one-time code to move this account to a new phone; any older code stops working."""

    def __init__(self, uow_factory: UnitOfWorkFactory, policy: AuthPolicy, clock: Clock) -> None:
        self._uow_factory, self._policy, self._clock = uow_factory, policy, clock

    async def __call__(self, principal: Principal) -> IssuedCode:
        now = self._clock()
        async with self._uow_factory() as uow:
            # Concurrent issues take turns on the user's row, so exactly one code stays live.
            await uow.users.lock(principal.user.id)
            await uow.transfer_codes.void_open_for_user(principal.user.id, now)
            ttl = self._policy.transfer_code_ttl
            issued, code = TransferCode.issue(principal.user.id, now, ttl)
            await uow.transfer_codes.add(issued)
            await uow.commit()
        return IssuedCode(code, issued.expires_at)
