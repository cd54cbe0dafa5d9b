"""SQLAlchemy 2 async adapters (PostgreSQL via asyncpg, SQLite via aiosqlite) and the
schema's alembic migrations. Import the submodules; nothing is built at import time."""
