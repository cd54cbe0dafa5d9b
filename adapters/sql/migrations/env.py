"""Alembic environment: always given an open connection by adapters.sql.migrate."""

from alembic import context
from sqlalchemy.engine import Connection

from adapters.sql.tables import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("run migrations through adapters.sql.migrate.upgrade_database(url)")
run_migrations(_connection)
