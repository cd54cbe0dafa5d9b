from datetime import datetime

from application.auth.policy import AuthPolicy
from application.auth.tokens import Authenticated, TokenFactory
from application.ports.clock import Clock
from application.ports.messaging import SessionEvents
from application.ports.sessions import RefreshLedger
from domain.devices.model import validate_device_id
from domain.sessions.model import InvalidRefreshToken
from domain.sessions.tokens import derive_successor, hash_token, new_rotation_nonce
from domain.shared.errors import ConcurrentUpdate

MAX_ATTEMPTS = 5


class RefreshSession:
    """Rotates a refresh token. Racing refreshes inside the reuse interval converge on one
    successor; a replay after it revokes the whole family."""

    def __init__(
        self,
        ledger: RefreshLedger,
        tokens: TokenFactory,
        policy: AuthPolicy,
        clock: Clock,
        session_events: SessionEvents,
    ) -> None:
        self._ledger, self._tokens, self._policy = ledger, tokens, policy
        self._clock, self._session_events = clock, session_events

    async def __call__(self, refresh_token: str, device_id: str) -> Authenticated:
        device_id = validate_device_id(device_id)
        if not refresh_token or len(refresh_token) > 256:
            raise InvalidRefreshToken()
        digest = hash_token(refresh_token)
        for _ in range(MAX_ATTEMPTS):
            try:
                return await self._attempt(digest, refresh_token, device_id)
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate()

    async def _attempt(self, digest: str, presented: str, device_id: str) -> Authenticated:
        now = self._clock()
        nonce = new_rotation_nonce()
        successor = derive_successor(presented, nonce)
        rotated = await self._ledger.rotate(digest, device_id, hash_token(successor), nonce, now)
        if rotated is not None:  # the common case, in one step
            family, user = rotated
            return Authenticated(
                user, self._tokens.token_set(user, family.id, device_id, successor, now))
        # A racing or replayed token, another device, an ended session or a disabled user:
        # the domain decides on what is stored.
        return await self._decide(digest, presented, device_id, now)

    async def _decide(
        self, digest: str, presented: str, device_id: str, now: datetime
    ) -> Authenticated:
        found = await self._ledger.find(digest)
        if found is None:
            raise InvalidRefreshToken()
        family, user = found
        generation, was_active = family.generation, family.active
        try:
            successor = family.refresh(presented, device_id, now, self._policy.reuse_interval)
        except InvalidRefreshToken:
            if was_active and not family.active:
                await self._ledger.record(family, generation)
                # A replay ended the family: that device's sockets close on every node too.
                await self._session_events.sessions_ended(family.user_id, family.device_id)
            raise
        user.ensure_active()
        if family.generation != generation:
            await self._ledger.record(family, generation, now if user.touch(now) else None)
        return Authenticated(
            user, self._tokens.token_set(user, family.id, device_id, successor, now))
