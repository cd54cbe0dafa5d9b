"""The database schema, brought up to date by the operator commands."""

from entrypoints.wiring.settings import Settings


async def upgrade_schema(settings: Settings) -> None:
    """Applies every migration not yet applied."""
    from adapters.sql.migrate import upgrade_database

    await upgrade_database(settings.sql_url)


async def create_embedded_schema(settings: Settings) -> None:
    """The embedded default's database may not exist before the first `atelier dev`."""
    from adapters.sql.engine import is_sqlite

    if is_sqlite(settings.sql_url):
        await upgrade_schema(settings)
