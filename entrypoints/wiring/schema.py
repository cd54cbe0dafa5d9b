"""State on disk the operator commands prepare: the database schema, the data folder."""

from entrypoints.wiring.settings import Settings


async def upgrade_schema(settings: Settings) -> None:
    """Applies every migration not yet applied."""
    from adapters.sql.migrate import upgrade_database

    await upgrade_database(settings.sql_url)


async def require_schema(settings: Settings) -> None:
    """Fails at start, with the database's reason, when `atelier db upgrade` never ran: a
    process that needs the schema would otherwise fail on every poll."""
    from adapters.sql.migrate import check_schema

    await check_schema(settings.sql_url)


async def create_embedded_schema(settings: Settings) -> None:
    """The embedded default's database may not exist before the first `atelier dev`."""
    from adapters.sql.engine import is_sqlite

    if is_sqlite(settings.sql_url):
        await upgrade_schema(settings)


def make_data_dir_private(settings: Settings) -> None:
    """The embedded default's data folder (database, secrets, mailbox) is its owner's alone."""
    from adapters.local.data_dir import tighten_data_dir

    tighten_data_dir(settings.data_dir)
