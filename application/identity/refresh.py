from datetime import datetime

from application.auth.policy import AuthPolicy
from application.auth.tokens import Authenticated, TokenFactory
from application.ports.clock import Clock
from application.ports.messaging import SessionEvents
from application.ports.metrics import Metrics, RefreshOutcome
from application.ports.sessions import RefreshLedger
from domain.devices.model import validate_device_id
from domain.sessions.model import (
    DeviceMismatch,
    InvalidRefreshToken,
    RefreshTokenExpired,
    RefreshTokenReused,
    RefreshTokenRevoked,
)
from domain.sessions.tokens import (
    SealedToken,
    derive_successor,
    hash_token,
    is_sealed,
    new_rotation_nonce,
)
from domain.shared.errors import ConcurrentUpdate, DomainError
from domain.users.model import UserDisabled

MAX_ATTEMPTS = 5


class RefreshSession:
    """Rotates a refresh token. Racing refreshes inside the reuse interval converge on one
    successor; a replay after it revokes the whole family. A token of the first format
    (issued before tokens named their family) is exchanged for a sealed one."""

    def __init__(
        self,
        ledger: RefreshLedger,
        tokens: TokenFactory,
        policy: AuthPolicy,
        clock: Clock,
        session_events: SessionEvents,
        metrics: Metrics,
    ) -> None:
        self._ledger, self._tokens, self._policy = ledger, tokens, policy
        self._clock, self._session_events = clock, session_events
        self._metrics = metrics

    async def __call__(self, refresh_token: str, device_id: str) -> Authenticated:
        try:
            return await self._refresh(refresh_token, device_id)
        except DomainError as refused:  # a success is counted where it is decided
            self._metrics.refresh_finished(refusal_outcome(refused))
            raise

    async def _refresh(self, refresh_token: str, device_id: str) -> Authenticated:
        device_id = validate_device_id(device_id)
        if not refresh_token or len(refresh_token) > 256:
            raise InvalidRefreshToken()
        sealed: SealedToken | None = None
        secret = refresh_token
        if is_sealed(refresh_token):
            sealed = self._tokens.open_refresh_token(refresh_token)
            if sealed is None:  # malformed, or not sealed by this service: no lookup at all
                raise InvalidRefreshToken()
            secret = sealed.secret
        for _ in range(MAX_ATTEMPTS):
            try:
                return await self._attempt(sealed, secret, device_id)
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate()

    async def _attempt(
        self, sealed: SealedToken | None, secret: str, device_id: str
    ) -> Authenticated:
        now = self._clock()
        if sealed is not None:  # the common case, in one step
            nonce = new_rotation_nonce()
            successor = derive_successor(secret, nonce)
            rotated = await self._ledger.rotate(
                sealed.family_id, sealed.generation, hash_token(secret), device_id,
                hash_token(successor), nonce, now)
            if rotated is not None:
                family, user = rotated
                self._metrics.refresh_finished("rotated")
                return Authenticated(user, self._tokens.token_set(user, family, successor, now))
        # A racing or replayed token, another device, an ended session, a disabled user or
        # a token of the first format: the domain decides on what is stored.
        return await self._decide(sealed, secret, device_id, now)

    async def _decide(
        self, sealed: SealedToken | None, secret: str, device_id: str, now: datetime
    ) -> Authenticated:
        if sealed is not None:
            found = await self._ledger.find(sealed.family_id)
        else:
            found = await self._ledger.find_by_first_format(hash_token(secret))
        if found is None:
            raise InvalidRefreshToken()
        family, user = found
        generation, was_active = family.generation, family.active
        try:
            successor = family.refresh(
                secret, device_id, now, self._policy.reuse_interval,
                sealed.generation if sealed is not None else None)
        except InvalidRefreshToken:
            if was_active and not family.active:
                await self._ledger.record(family, generation)
                # A replay ended the family: that device's sockets close on every node too.
                await self._session_events.sessions_ended(family.user_id, family.device_id)
            raise
        user.ensure_active()
        if family.generation != generation:
            await self._ledger.record(family, generation, now if user.touch(now) else None)
        self._metrics.refresh_finished("rotated" if family.generation != generation else "raced")
        return Authenticated(user, self._tokens.token_set(user, family, successor, now))


REFUSALS: tuple[tuple[type[DomainError], RefreshOutcome], ...] = (
    (RefreshTokenReused, "reused"), (RefreshTokenExpired, "expired"),
    (RefreshTokenRevoked, "revoked"), (DeviceMismatch, "device_mismatch"),
    (UserDisabled, "disabled"), (ConcurrentUpdate, "conflict"),
)


def refusal_outcome(refused: DomainError) -> RefreshOutcome:
    """The metrics outcome of a refused refresh (anything unrecognised is `invalid`)."""
    for kind, outcome in REFUSALS:
        if isinstance(refused, kind):
            return outcome
    return "invalid"
