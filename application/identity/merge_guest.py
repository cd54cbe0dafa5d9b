from application.auth.authenticate import Principal
from application.auth.policy import AuthPolicy
from application.auth.sessions import end_sessions, start_session
from application.auth.tokens import Authenticated, TokenFactory
from application.identity.password_check import check_password_login
from application.ports.clock import Clock
from application.ports.identity import IdentityProvider
from application.ports.messaging import SessionEvents
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.devices.model import Platform
from domain.guests.rules import check_merge
from domain.shared.errors import NotFound
from domain.users.model import NotAGuest, normalize_email


class MergeGuest:
    """Moves everything a guest owns to a member in one transaction and ends the guest;
    the device that held the guest is signed in as the member."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        identity: IdentityProvider,
        tokens: TokenFactory,
        policy: AuthPolicy,
        clock: Clock,
        session_events: SessionEvents,
    ) -> None:
        self._uow_factory, self._identity, self._tokens = uow_factory, identity, tokens
        self._policy, self._clock, self._session_events = policy, clock, session_events

    async def __call__(
        self, guest: Principal, email: str, password: str, client_ip: str
    ) -> Authenticated:
        if not guest.user.is_guest:
            raise NotAGuest()
        email = normalize_email(email)
        subject = await check_password_login(
            self._uow_factory, self._identity, self._policy, self._clock, email, password,
            client_ip)
        now = self._clock()
        async with self._uow_factory() as uow:
            guest_user = await uow.users.get(guest.user.id)
            member = await uow.users.get_by_external_id(subject) or await uow.users.get_by_email(
                email)
            if guest_user is None or member is None:
                raise NotFound("account not found")
            check_merge(guest_user, member)
            device = await uow.devices.get(guest_user.id, guest.device_id)
            platform = device.platform if device else Platform.IOS
            await uow.images.move_owner(guest_user.id, member.id)
            await end_sessions(uow, guest_user.id, now, "merged")
            await uow.users.delete(guest_user.id)
            member.touch(now)
            await uow.users.update(member)
            tokens = await start_session(
                uow, self._tokens, self._policy, member, guest.device_id, platform, now)
            await uow.commit()
        await self._session_events.sessions_ended(guest_user.id)  # the guest's sockets close
        return Authenticated(member, tokens)
