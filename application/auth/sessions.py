from datetime import datetime

from application.auth.policy import AuthPolicy
from application.auth.tokens import TokenFactory, TokenSet
from application.ports.unit_of_work import UnitOfWork
from domain.devices.model import Device, Platform
from domain.sessions.model import RefreshFamily
from domain.shared.ids import new_id
from domain.users.model import User


async def start_session(
    uow: UnitOfWork,
    tokens: TokenFactory,
    policy: AuthPolicy,
    user: User,
    device_id: str,
    platform: Platform,
    now: datetime,
) -> TokenSet:
    """Binds the device to the user and starts a new refresh-token family on it."""
    device = await uow.devices.get(user.id, device_id)
    if device is None:
        await uow.devices.add(Device(user.id, device_id, platform, now, now))
    else:
        device.seen(platform, now)
        await uow.devices.update(device)
    family, refresh_secret = RefreshFamily.start(
        new_id(), user.id, device_id, now, policy.refresh_token_ttl
    )
    await uow.sessions.add(family)
    return tokens.token_set(user, family, refresh_secret, now)


async def end_device_sessions(
    uow: UnitOfWork, user_id: str, device_id: str, now: datetime, reason: str
) -> int:
    """Revokes the user's live sessions on one device; returns how many ended."""
    ended = 0
    for family in await uow.sessions.live_for_user(user_id, now):
        if family.device_id == device_id:
            generation = family.generation
            family.revoke(now, reason)
            await uow.sessions.update(family, generation)
            ended += 1
    return ended


async def end_sessions(
    uow: UnitOfWork, user_id: str, now: datetime, reason: str, keep: str | None = None
) -> int:
    """Revokes every live session of the user (but `keep`); returns how many ended."""
    ended = 0
    for family in await uow.sessions.live_for_user(user_id, now):
        if family.id == keep:
            continue
        generation = family.generation
        family.revoke(now, reason)
        await uow.sessions.update(family, generation)
        ended += 1
    return ended
