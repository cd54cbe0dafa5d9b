from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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
