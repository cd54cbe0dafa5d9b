import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from application.auth.authenticate import Authenticate, Principal
from application.ports.tokens import InvalidAccessToken


class CachedAuthenticator:
    """Remembers verified tokens until they expire, and live sessions for a few seconds,
    so an authenticated read pays neither the EdDSA verify nor a database round trip.
    A remembered token is still checked against the live key ring (a dictionary lookup),
    so a revoked key's tokens fail at once. `forget_user` drops a user's sessions at once
    (logout, disable, transfer)."""

    def __init__(
        self,
        authenticate: Authenticate,
        session_ttl: float,
        max_entries: int = 50_000,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._auth = authenticate
        self._ttl = session_ttl
        self._max = max_entries
        self._monotonic = monotonic
        self._wall = wall
        self._claims: OrderedDict[str, tuple[str, str, float]] = OrderedDict()
        self._sessions: dict[str, tuple[Principal, float]] = {}

    async def __call__(self, token: str) -> Principal:
        cached = self._claims.get(token)
        if cached is not None and not self._auth.key_still_trusted(token):
            del self._claims[token]
            raise InvalidAccessToken()
        if cached is None or cached[2] <= self._wall():
            cached = self._verify(token)
        session_id, user_id, _ = cached
        hit = self._sessions.get(session_id)
        if hit is not None and hit[1] > self._monotonic():
            return hit[0]
        principal = await self._auth.principal(session_id, user_id)
        if self._ttl > 0:
            self._sessions[session_id] = (principal, self._monotonic() + self._ttl)
            if len(self._sessions) > self._max:
                self._sessions.pop(next(iter(self._sessions)))
        return principal

    def _verify(self, token: str) -> tuple[str, str, float]:
        claims: dict[str, Any] = self._auth.claims(token)
        session_id, user_id, expires = claims.get("sid"), claims.get("sub"), claims.get("exp")
        if not isinstance(session_id, str) or not isinstance(user_id, str):
            raise InvalidAccessToken()
        if not isinstance(expires, int | float):
            raise InvalidAccessToken()
        entry = (session_id, user_id, float(expires))
        self._claims[token] = entry
        if len(self._claims) > self._max:
            self._claims.popitem(last=False)
        return entry

    async def forget_user(self, user_id: str) -> None:
        stale = [sid for sid, (p, _) in self._sessions.items() if p.user.id == user_id]
        for session_id in stale:
            self._sessions.pop(session_id, None)

    def forget_all(self) -> None:
        self._sessions.clear()
