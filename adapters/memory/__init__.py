"""In-memory adapters: real implementations (transactions included) for tests and demos."""

from adapters.memory.credentials import InMemoryCredentialStore
from adapters.memory.database import InMemoryDatabase, Tables
from adapters.memory.images import InMemoryImageRepository, InMemoryOutboxRepository
from adapters.memory.sessions import InMemorySessionRepository, InMemoryTransferCodeRepository
from adapters.memory.unit_of_work import InMemoryUnitOfWork, InMemoryUnitOfWorkFactory
from adapters.memory.users import (
    InMemoryDeviceRepository,
    InMemoryLoginAttemptRepository,
    InMemoryUserRepository,
)

__all__ = [
    "InMemoryCredentialStore",
    "InMemoryDatabase",
    "InMemoryDeviceRepository",
    "InMemoryImageRepository",
    "InMemoryLoginAttemptRepository",
    "InMemoryOutboxRepository",
    "InMemorySessionRepository",
    "InMemoryTransferCodeRepository",
    "InMemoryUnitOfWork",
    "InMemoryUnitOfWorkFactory",
    "InMemoryUserRepository",
    "Tables",
]
