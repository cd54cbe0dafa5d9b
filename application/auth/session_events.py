"""Ended sessions told to every node: an admin disables a user on one process, and every
mobile API process forgets what it cached about that user at once."""

import logging

from application.ports.messaging import AuthCache, RealtimeBus

AUTH_CHANNEL = "internal:auth"
SESSIONS_ENDED = "user.sessions_ended"

log = logging.getLogger("atelier.auth")


class PublishingAuthCache:
    """AuthCache for a process that caches nothing itself (the admin API): it publishes
    `{"type": "user.sessions_ended", "user_id": ...}` on `internal:auth`."""

    def __init__(self, bus: RealtimeBus) -> None:
        self._bus = bus

    async def forget_user(self, user_id: str) -> None:
        await self._bus.publish(AUTH_CHANNEL, {"type": SESSIONS_ENDED, "user_id": user_id})


async def follow_ended_sessions(bus: RealtimeBus, cache: AuthCache) -> None:
    """Runs until cancelled: each `user.sessions_ended` notice drops that user from `cache`."""
    async for message in bus.listen():
        if message.channel != AUTH_CHANNEL or message.data.get("type") != SESSIONS_ENDED:
            continue
        user_id = message.data.get("user_id")
        if isinstance(user_id, str):
            try:
                await cache.forget_user(user_id)
            except Exception:
                log.exception("could not forget the sessions of a user")
