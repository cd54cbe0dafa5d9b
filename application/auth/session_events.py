"""What ends sessions or keys, told to every node over the bus's internal channels.

`internal:auth`:
  `{"type": "user.sessions_ended", "user_id": u, "device_id": d}` (`device_id` optional):
  every API process forgets what it cached about the user; every gateway closes the
  user's sockets (only those opened from device `d`, when given) with 1008.
`internal:keys` (KEYS_CHANNEL):
  `{"type": "key.revoked", "kid": k}`: every API process stops trusting and serving the
  key at once; every gateway drops it and closes the sockets it authenticated.
"""

import logging
from typing import Protocol

from application.keys.manage_keys import KEYS_CHANNEL
from application.ports.messaging import AuthCache, BusMessage, RealtimeBus

AUTH_CHANNEL = "internal:auth"
SESSIONS_ENDED = "user.sessions_ended"
KEY_REVOKED = "key.revoked"

log = logging.getLogger("atelier.auth")


class RevocableKeys(Protocol):
    """A process's view of the signing keys, told at once that one is revoked."""

    async def revoke(self, kid: str) -> None: ...


def sessions_ended_message(user_id: str, device_id: str | None) -> dict[str, str]:
    message = {"type": SESSIONS_ENDED, "user_id": user_id}
    if device_id is not None:
        message["device_id"] = device_id
    return message


class KeyRevocationNotice:
    """Tells every node a key is revoked: what a node whose reload found a revocation it
    had not heard of says, so that nodes which missed the first message converge too."""

    def __init__(self, bus: RealtimeBus) -> None:
        self._bus = bus

    async def __call__(self, kid: str) -> None:
        await self._bus.publish(KEYS_CHANNEL, {"type": KEY_REVOKED, "kid": kid})


class BusSessionEvents:
    """SessionEvents over the bus; `local` (this process's cache, if it has one) forgets
    the user at once, before the message goes round."""

    def __init__(self, bus: RealtimeBus, local: AuthCache | None) -> None:
        self._bus, self._local = bus, local

    async def sessions_ended(self, user_id: str, device_id: str | None = None) -> None:
        if self._local is not None:
            await self._local.forget_user(user_id)
        await self._bus.publish(AUTH_CHANNEL, sessions_ended_message(user_id, device_id))


async def follow_revocations(
    bus: RealtimeBus, cache: AuthCache | None, keys: RevocableKeys | None
) -> None:
    """Runs until cancelled: ended sessions are dropped from `cache`, revoked keys from
    `keys`."""
    async for message in bus.listen((AUTH_CHANNEL, KEYS_CHANNEL)):
        try:
            await _apply(message, cache, keys)
        except Exception:
            log.exception("could not apply a revocation notice")


async def _apply(message: BusMessage, cache: AuthCache | None, keys: RevocableKeys | None) -> None:
    kind = message.data.get("type")
    if message.channel == AUTH_CHANNEL and kind == SESSIONS_ENDED and cache is not None:
        user_id = message.data.get("user_id")
        if isinstance(user_id, str):
            await cache.forget_user(user_id)
    elif message.channel == KEYS_CHANNEL and kind == KEY_REVOKED and keys is not None:
        kid = message.data.get("kid")
        if isinstance(kid, str):
            await keys.revoke(kid)
