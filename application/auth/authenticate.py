from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.tokens import AccessTokenVerifier
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.shared.errors import Unauthorized
from domain.users.model import User


class SessionEnded(Unauthorized):
    """This session has ended; log in again."""

    code = "session_ended"


@dataclass(frozen=True)
class Principal:
    user: User
    session_id: str
    device_id: str


class Authenticate:
    """Bearer access token -> the live session and active user behind it."""

    def __init__(
        self, verifier: AccessTokenVerifier, uow_factory: UnitOfWorkFactory, clock: Clock
    ) -> None:
        self._verifier = verifier
        self._uow_factory = uow_factory
        self._clock = clock

    def claims(self, token: str) -> dict[str, object]:
        return self._verifier.verify(token)

    def key_still_trusted(self, token: str) -> bool:
        """For a token whose claims were checked earlier: its key is not revoked since."""
        return self._verifier.key_still_trusted(token)

    async def principal(self, session_id: str, user_id: str) -> Principal:
        async with self._uow_factory() as uow:
            family = await uow.sessions.get(session_id)
            user = await uow.users.get(user_id)
        if family is None or user is None or family.user_id != user.id:
            raise SessionEnded()
        if not family.is_live(self._clock()):
            raise SessionEnded()
        user.ensure_active()
        return Principal(user, family.id, family.device_id)
