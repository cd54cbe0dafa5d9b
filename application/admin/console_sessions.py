"""Web console sign-ins: a random id in the browser's cookie, its SHA-256 in the database."""

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from application.admin.acting import Acting
from application.ports.admin_directory import AdminDirectory
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.admins.console_session import ConsoleSession, ConsoleSessionLimits
from domain.admins.model import AdminIdentity, AdminSource
from domain.shared.errors import Unauthorized

log = logging.getLogger(__name__)

ADMIN_RECHECK = timedelta(minutes=5)

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
    (a disabled or removed local admin's sessions all end; an admin of the identity
    provider, asked at most every `recheck`, whose login is gone, disabled or out of the
    admins group, too); each use counts as activity."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, limits: ConsoleSessionLimits,
        directory: AdminDirectory | None = None, recheck: timedelta = ADMIN_RECHECK,
    ) -> None:
        self._uow_factory, self._clock, self._limits = uow_factory, clock, limits
        self._directory, self._recheck = directory, recheck
        self._confirmed: dict[str, datetime] = {}
        """subject -> when the directory last said they are an admin (this process)."""

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
            elif session.admin.source is AdminSource.COGNITO \
                    and not await self._still_admin(session.admin.subject, now):
                await uow.console_sessions.delete_for_admin(session.admin.subject)
                await uow.commit()
                raise ConsoleSessionEnded()
            await uow.console_sessions.touch(key, now)
            await uow.commit()
        return session.admin

    async def _still_admin(self, subject: str, now: datetime) -> bool:
        confirmed = self._confirmed.get(subject)
        if self._directory is None or (confirmed is not None and now - confirmed < self._recheck):
            return True
        try:
            still = await self._directory.is_admin(subject)
        except Exception:  # the directory unreachable: keep the session, ask again next time
            log.warning("could not re-check console admin %s", subject, exc_info=True)
            return True
        if still:
            self._confirmed[subject] = now
        else:
            self._confirmed.pop(subject, None)
        return still


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
