from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from application.ports.storage import StorageUnavailable, UnstorableText
from domain.shared.errors import Conflict
from domain.users.model import EmailInUse

# PostgreSQL names the constraint; SQLite names the columns.
_EMAIL_IN_USE_MARKERS = (
    "uq_users_email", "uq_users_external_id", "users.email", "users.external_id",
)


def domain_error_for(error: IntegrityError) -> Conflict:
    message = str(error.orig)
    if any(marker in message for marker in _EMAIL_IN_USE_MARKERS):
        return EmailInUse()
    return Conflict()


@contextmanager
def integrity_errors_as_conflicts() -> Iterator[None]:
    """IntegrityError -> EmailInUse on the users' unique e-mail/subject, else Conflict."""
    try:
        yield
    except IntegrityError as error:
        raise domain_error_for(error) from error


async def affected_rows(session: AsyncSession, statement: Executable) -> int:
    """Runs an INSERT/UPDATE/DELETE and answers how many rows it touched."""
    result = await session.execute(statement)
    return cast(CursorResult[Any], result).rowcount


# Connection exceptions (08), shutting down / not accepting connections yet (57P0x),
# too many connections (53300).
_UNAVAILABLE_SQLSTATES = frozenset(
    {"08000", "08001", "08003", "08004", "08006", "57P01", "57P02", "57P03", "53300"})
# PostgreSQL refused a string (a NUL byte, say) that validation let by.
_UNSTORABLE_TEXT_SQLSTATE = "22021"


def storage_error_for(error: BaseException) -> Exception | None:
    """The port's error for a driver's (asyncpg's, or SQLAlchemy's wrapper of it): None when
    the error says nothing about the store as a whole."""
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate == _UNSTORABLE_TEXT_SQLSTATE:
        return UnstorableText()
    if (
        sqlstate in _UNAVAILABLE_SQLSTATES
        or isinstance(error, ConnectionError | TimeoutError)
        # asyncpg, when every address of the host refused the connection
        or (type(error) is OSError and str(error).startswith("Multiple exceptions"))
    ):
        return StorageUnavailable()
    return None


@contextmanager
def storage_errors() -> Iterator[None]:
    """A driver error about the store as a whole -> StorageUnavailable or UnstorableText."""
    try:
        yield
    except Exception as error:
        translated = storage_error_for(error)
        if translated is None:
            raise
        raise translated from error
