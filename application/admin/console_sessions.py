"""Web console sign-ins: a random id in the browser's cookie, its SHA-256 in the database."""

import hashlib
import secrets

from application.admin.acting import Acting
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.admins.console_session import ConsoleSession, ConsoleSessionLimits
from domain.admins.model import AdminIdentity, AdminSource
from domain.shared.errors import Unauthorized


class ConsoleSessionEnded(Unauthorized):
    """Signed out, timed out, or the admin is no longer one: sign in again."""

    code = "console_session_ended"


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class StartConsoleSession:
    """A new sign-in for an admin whose credentials were just checked; answers the id the
    browser keeps (never stored)."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, limits: ConsoleSessionLimits
    ) -> None:
        self._uow_factory, self._clock, self._limits = uow_factory, clock, limits

    async def __call__(self, acting: Acting) -> str:
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        session = ConsoleSession.start(session_hash(session_id), acting.admin, now, self._limits)
        async with self._uow_factory() as uow:
            await uow.console_sessions.add(session)
            await uow.audit.append(acting.entry(
                "console.signed_in", "admin", acting.admin.subject, now,
                expires_at=session.expires_at.isoformat()))
            await uow.commit()
        return session_id


class ResumeConsoleSession:
    """The admin behind a session id, if the session is live and the admin still is one
    (a disabled or removed local admin's sessions all end); each use counts as activity."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, limits: ConsoleSessionLimits
    ) -> None:
        self._uow_factory, self._clock, self._limits = uow_factory, clock, limits

    async def __call__(self, session_id: str) -> AdminIdentity:
        key, now = session_hash(session_id), self._clock()
        async with self._uow_factory() as uow:
            session = await uow.console_sessions.get(key)
            if session is None:
                raise ConsoleSessionEnded()
            if not session.live(now, self._limits):
                await uow.console_sessions.delete(key)
                await uow.commit()
                raise ConsoleSessionEnded()
            if session.admin.source is AdminSource.LOCAL:
                admin = await uow.admins.get(session.admin.subject)
                if admin is None or admin.disabled:
                    await uow.console_sessions.delete_for_admin(session.admin.subject)
                    await uow.commit()
                    raise ConsoleSessionEnded()
            await uow.console_sessions.touch(key, now)
            await uow.commit()
        return session.admin


class EndConsoleSession:
    """Sign-out: the session is deleted, so its cookie signs nobody in any more."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory, self._clock = uow_factory, clock

    async def __call__(self, acting: Acting, session_id: str) -> None:
        async with self._uow_factory() as uow:
            if await uow.console_sessions.delete(session_hash(session_id)):
                await uow.audit.append(acting.entry(
                    "console.signed_out", "admin", acting.admin.subject, self._clock()))
            await uow.commit()
