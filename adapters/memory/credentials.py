import copy

from adapters.local.credentials import LocalCredential
from domain.shared.errors import Conflict, NotFound
from domain.users.model import EmailInUse


class InMemoryCredentialStore:
    """The local identity provider's credentials, kept in a dict (each call stands alone)."""

    def __init__(self) -> None:
        self._by_email: dict[str, LocalCredential] = {}

    async def get(self, email: str) -> LocalCredential | None:
        return copy.deepcopy(self._by_email.get(email))

    async def add(self, credential: LocalCredential) -> None:
        if credential.email in self._by_email:
            raise EmailInUse()
        if any(c.subject == credential.subject for c in self._by_email.values()):
            raise Conflict("subject already used")
        self._by_email[credential.email] = copy.deepcopy(credential)

    async def update(self, credential: LocalCredential) -> None:
        if credential.email not in self._by_email:
            raise NotFound("credential not found")
        self._by_email[credential.email] = copy.deepcopy(credential)
