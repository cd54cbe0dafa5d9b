import copy
from collections.abc import Callable
from datetime import datetime

from adapters.memory.workspace import Workspace
from application.ports.admin import UserQuery
from domain.devices.model import Device
from domain.shared.errors import Conflict, NotFound
from domain.users.lockout import EVERY_SOURCE, LoginAttempts
from domain.users.model import EmailInUse, User


class InMemoryUserRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def get(self, user_id: str) -> User | None:
        return copy.deepcopy(self._ws.tables.users.get(user_id))

    async def get_by_email(self, email: str) -> User | None:
        return self._find(lambda user: user.email == email)

    async def lock(self, user_id: str) -> None:
        """Nothing more to hold: a memory unit of work holds the whole database already."""

    async def get_by_external_id(self, external_id: str) -> User | None:
        return self._find(lambda user: user.external_id == external_id)

    async def add(self, user: User) -> None:
        if user.id in self._ws.tables.users:
            raise Conflict(f"user {user.id} exists")
        self._check_unique(user)
        self._ws.tables.users[user.id] = copy.deepcopy(user)

    async def update(self, user: User) -> None:
        if user.id not in self._ws.tables.users:
            raise NotFound("user not found")
        self._check_unique(user)
        self._ws.tables.users[user.id] = copy.deepcopy(user)

    async def delete(self, user_id: str) -> None:
        tables = self._ws.tables
        tables.users.pop(user_id, None)
        for key in [key for key in tables.devices if key[0] == user_id]:
            del tables.devices[key]
        gone = {fid for fid, family in tables.sessions.items() if family.user_id == user_id}
        for family_id in gone:
            del tables.sessions[family_id]
        for digest in [h for h, fid in tables.token_hashes.items() if fid in gone]:
            del tables.token_hashes[digest]
        for code_hash in [h for h, c in tables.transfer_codes.items() if c.user_id == user_id]:
            del tables.transfer_codes[code_hash]
        for image_id in [i for i, r in tables.images.items() if r.user_id == user_id]:
            del tables.images[image_id]
        for key in [k for k, i in tables.identities.items() if i.user_id == user_id]:
            del tables.identities[key]
        for export_id in [i for i, e in tables.exports.items() if e.user_id == user_id]:
            del tables.exports[export_id]
        tables.deletion_codes.pop(user_id, None)

    async def idle_guests(self, last_seen_before: datetime, limit: int) -> list[User]:
        idle = [
            user for user in self._ws.tables.users.values()
            if user.is_guest and user.last_seen_at < last_seen_before
        ]
        idle.sort(key=lambda user: (user.last_seen_at, user.id))
        return copy.deepcopy(idle[:limit])

    async def search(
        self, query: UserQuery, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[User]:
        def matches(user: User) -> bool:
            return (
                (not query.email or (user.email or "").startswith(query.email))
                and (not query.user_id or query.user_id in (user.id, user.external_id))
                and (query.kind is None or user.kind is query.kind)
                and (query.status is None or user.status is query.status)
                and (after is None or (user.created_at, user.id) < after)
            )

        found = sorted(filter(matches, self._ws.tables.users.values()),
                       key=lambda user: (user.created_at, user.id), reverse=True)
        return copy.deepcopy(found[:limit])

    def _find(self, match: Callable[[User], bool]) -> User | None:
        for user in self._ws.tables.users.values():
            if match(user):
                return copy.deepcopy(user)
        return None

    def _check_unique(self, user: User) -> None:
        for other in self._ws.tables.users.values():
            if other.id == user.id:
                continue
            if user.email is not None and other.email == user.email:
                raise EmailInUse()
            if user.external_id is not None and other.external_id == user.external_id:
                raise EmailInUse()


class InMemoryDeviceRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def get(self, user_id: str, device_id: str) -> Device | None:
        return copy.deepcopy(self._ws.tables.devices.get((user_id, device_id)))

    async def add(self, device: Device) -> None:
        key = (device.user_id, device.device_id)
        if key in self._ws.tables.devices:
            raise Conflict("device already bound to this user")
        if device.user_id not in self._ws.tables.users:
            raise Conflict("no such user")
        self._ws.tables.devices[key] = copy.deepcopy(device)

    async def update(self, device: Device) -> None:
        key = (device.user_id, device.device_id)
        if key not in self._ws.tables.devices:
            raise NotFound("device not found")
        self._ws.tables.devices[key] = copy.deepcopy(device)

    async def for_user(self, user_id: str) -> list[Device]:
        devices = [d for (owner, _), d in self._ws.tables.devices.items() if owner == user_id]
        devices.sort(key=lambda device: (device.created_at, device.device_id))
        return copy.deepcopy(devices)

    async def move_to(self, from_user_id: str, to_user_id: str) -> int:
        """Rebinds the devices; where the target already holds the device, its row wins."""
        devices = self._ws.tables.devices
        moved = 0
        for key in [key for key in devices if key[0] == from_user_id]:
            device = devices.pop(key)
            if (to_user_id, device.device_id) in devices:
                continue
            device.user_id = to_user_id
            devices[(to_user_id, device.device_id)] = device
            moved += 1
        return moved


class InMemoryLoginAttemptRepository:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    async def get(self, email: str, source: str = EVERY_SOURCE) -> LoginAttempts | None:
        return copy.deepcopy(self._ws.tables.login_attempts.get((email, source)))

    async def get_for_update(self, email: str, source: str) -> LoginAttempts:
        """A memory unit of work holds the whole database already."""
        return await self.get(email, source) or LoginAttempts(email, source=source)

    async def save(self, attempts: LoginAttempts) -> None:
        key = (attempts.email, attempts.source)
        self._ws.tables.login_attempts[key] = copy.deepcopy(attempts)

    async def delete(self, email: str, source: str) -> None:
        self._ws.tables.login_attempts.pop((email, source), None)
