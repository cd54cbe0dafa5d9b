import copy
from datetime import datetime

from adapters.memory.workspace import Workspace
from application.ports.identities import IdentityRepository, IdTokenUseRepository
from domain.shared.errors import Conflict
from domain.users.identities import LinkedIdentity, Provider


class InMemoryIdentityRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def get(self, provider: Provider, subject: str) -> LinkedIdentity | None:
        return copy.deepcopy(self._ws.tables.identities.get((provider, subject)))

    async def for_user(self, user_id: str) -> list[LinkedIdentity]:
        found = [i for i in self._ws.tables.identities.values() if i.user_id == user_id]
        return sorted(found, key=lambda identity: identity.provider.value)

    async def add(self, identity: LinkedIdentity) -> None:
        table = self._ws.tables.identities
        if (identity.provider, identity.subject) in table or any(
                i.user_id == identity.user_id and i.provider is identity.provider
                for i in table.values()):
            raise Conflict("this identity is linked already")
        table[(identity.provider, identity.subject)] = identity

    async def delete(self, user_id: str, provider: Provider) -> None:
        table = self._ws.tables.identities
        for key in [k for k, i in table.items() if i.user_id == user_id and i.provider is provider]:
            del table[key]


class InMemoryIdTokenUseRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def bind(
        self, provider: Provider, digest: str, device_id: str, expires_at: datetime
    ) -> str:
        bound, _ = self._ws.tables.id_token_uses.setdefault(
            (provider, digest), (device_id, expires_at))
        return bound


_satisfies_port: type[IdentityRepository] = InMemoryIdentityRepository
_satisfies_uses_port: type[IdTokenUseRepository] = InMemoryIdTokenUseRepository
