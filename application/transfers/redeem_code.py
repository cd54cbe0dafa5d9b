from application.auth.policy import AuthPolicy
from application.auth.sessions import end_sessions, start_session
from application.auth.tokens import Authenticated, TokenFactory
from application.ports.clock import Clock
from application.ports.messaging import SessionEvents
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.devices.model import parse_platform, validate_device_id
from domain.transfers.model import InvalidTransferCode, hash_code


class RedeemTransferCode:
    """Moves the account to this phone: tokens here, every older device signed out."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: TokenFactory,
        policy: AuthPolicy,
        clock: Clock,
        session_events: SessionEvents,
    ) -> None:
        self._uow_factory, self._tokens, self._policy = uow_factory, tokens, policy
        self._clock, self._session_events = clock, session_events

    async def __call__(self, code: str, device_id: str, platform: str) -> Authenticated:
        code_hash = hash_code(code)
        device_id, platform_ = validate_device_id(device_id), parse_platform(platform)
        now = self._clock()
        async with self._uow_factory() as uow:
            found = await uow.transfer_codes.get(code_hash)
            if found is None:
                raise InvalidTransferCode()
            # The user's row first, as issuing does (one lock order, no deadlock); then one
            # conditional write decides which of many concurrent redeems wins.
            await uow.users.lock(found.user_id)
            transfer = await uow.transfer_codes.use(code_hash, now)
            if transfer is None:
                raise InvalidTransferCode()
            user = await uow.users.get(transfer.user_id)
            if user is None:
                raise InvalidTransferCode()
            user.ensure_active()
            await end_sessions(uow, user.id, now, "transferred")
            for device in await uow.devices.for_user(user.id):
                if device.device_id != device_id:
                    device.revoke(now)
                    await uow.devices.update(device)
            user.touch(now)
            await uow.users.update(user)
            tokens = await start_session(
                uow, self._tokens, self._policy, user, device_id, platform_, now)
            await uow.commit()
        await self._session_events.sessions_ended(user.id)  # older devices' sockets close
        return Authenticated(user, tokens)
