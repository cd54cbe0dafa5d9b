from adapters.memory.database import Tables


class Workspace:
    """The tables one Unit of Work reads and writes: a private copy until commit."""

    def __init__(self) -> None:
        self._tables: Tables | None = None

    @property
    def tables(self) -> Tables:
        if self._tables is None:
            raise RuntimeError("use the repositories inside `async with uow:`")
        return self._tables

    def load(self, tables: Tables | None) -> None:
        self._tables = tables
