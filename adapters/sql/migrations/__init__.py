"""Alembic migrations, run by adapters.sql.migrate.upgrade_database."""
