import copy
from datetime import datetime

from adapters.memory.workspace import Workspace
from domain.sessions.model import RefreshFamily
from domain.shared.errors import ConcurrentUpdate, Conflict, NotFound
from domain.transfers.model import TransferCode


class InMemorySessionRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def get(self, family_id: str) -> RefreshFamily | None:
        return copy.deepcopy(self._ws.tables.sessions.get(family_id))

    async def get_by_token_hash(self, token_hash: str) -> RefreshFamily | None:
        """Tokens of the first format only: nothing records new ones."""
        family_id = self._ws.tables.token_hashes.get(token_hash)
        return await self.get(family_id) if family_id is not None else None

    async def add(self, family: RefreshFamily) -> None:
        tables = self._ws.tables
        if family.id in tables.sessions:
            raise Conflict(f"session {family.id} exists")
        if family.user_id not in tables.users:
            raise Conflict("no such user")
        tables.sessions[family.id] = copy.deepcopy(family)

    async def update(self, family: RefreshFamily, expected_generation: int) -> None:
        tables = self._ws.tables
        current = tables.sessions.get(family.id)
        if current is None or current.generation != expected_generation:
            raise ConcurrentUpdate()
        stored = copy.deepcopy(family)
        if current.revoked_at is not None:
            # Revocation is sticky: a racing rotation never brings a family back.
            stored.revoked_at, stored.revoked_reason = current.revoked_at, current.revoked_reason
        tables.sessions[family.id] = stored

    async def live_for_user(self, user_id: str, now: datetime) -> list[RefreshFamily]:
        live = [
            family for family in self._ws.tables.sessions.values()
            if family.user_id == user_id and family.is_live(now)
        ]
        live.sort(key=lambda family: (family.created_at, family.id))
        return copy.deepcopy(live)


class InMemoryTransferCodeRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def get(self, code_hash: str) -> TransferCode | None:
        return copy.deepcopy(self._ws.tables.transfer_codes.get(code_hash))

    async def live_for_user(self, user_id: str, now: datetime) -> list[TransferCode]:
        live = [
            code for code in self._ws.tables.transfer_codes.values()
            if code.user_id == user_id and code.is_live(now)
        ]
        live.sort(key=lambda code: (code.created_at, code.code_hash))
        return copy.deepcopy(live)

    async def add(self, code: TransferCode) -> None:
        tables = self._ws.tables
        if code.code_hash in tables.transfer_codes:
            raise Conflict("transfer code exists")
        if code.user_id not in tables.users:
            raise Conflict("no such user")
        if any(other.user_id == code.user_id and _open(other)
               for other in tables.transfer_codes.values()):
            raise Conflict("the user holds an open transfer code")
        tables.transfer_codes[code.code_hash] = copy.deepcopy(code)

    async def use(self, code_hash: str, now: datetime) -> TransferCode | None:
        code = self._ws.tables.transfer_codes.get(code_hash)
        if code is None or not code.is_live(now):
            return None
        code.redeem(now)
        return copy.deepcopy(code)

    async def void_open_for_user(self, user_id: str, now: datetime) -> None:
        for code in self._ws.tables.transfer_codes.values():
            if code.user_id == user_id and _open(code):
                code.voided_at = now

    async def update(self, code: TransferCode) -> None:
        if code.code_hash not in self._ws.tables.transfer_codes:
            raise NotFound("transfer code not found")
        self._ws.tables.transfer_codes[code.code_hash] = copy.deepcopy(code)


def _open(code: TransferCode) -> bool:
    """Unused and not voided, expired or not (the SQL schema's partial unique index)."""
    return code.used_at is None and code.voided_at is None
