import copy
from datetime import datetime

from adapters.local.credentials import LocalCode, LocalCredential
from domain.shared.errors import Conflict, NotFound
from domain.users.model import EmailInUse


class InMemoryCredentialStore:
    """The local identity provider's credentials, kept in a dict (each call stands alone)."""

    def __init__(self) -> None:
        self._by_email: dict[str, LocalCredential] = {}
        self._codes: dict[tuple[str, str], LocalCode] = {}

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

    async def take_code_attempt(
        self, email: str, now: datetime, max_attempts: int
    ) -> LocalCredential | None:
        credential = self._by_email.get(email)
        if (credential is None or credential.confirmed or credential.code_hash is None
                or credential.code_expires_at is None or now >= credential.code_expires_at
                or credential.code_attempts >= max_attempts):
            return None
        credential.code_attempts += 1
        return copy.deepcopy(credential)

    async def confirm_with(self, email: str, code_hash: str) -> bool:
        credential = self._by_email.get(email)
        if credential is None or credential.confirmed or credential.code_hash != code_hash:
            return False
        credential.confirmed = True
        credential.code_hash = credential.code_expires_at = None
        credential.code_attempts = 0
        return True

    async def get_code(self, subject: str, purpose: str) -> LocalCode | None:
        return copy.deepcopy(self._codes.get((subject, purpose)))

    async def save_code(self, code: LocalCode) -> None:
        self._codes[(code.subject, code.purpose)] = copy.deepcopy(code)

    async def take_lifecycle_attempt(
        self, subject: str, purpose: str, now: datetime, max_attempts: int
    ) -> LocalCode | None:
        code = self._codes.get((subject, purpose))
        if (code is None or code.code_hash is None or code.expires_at is None
                or now >= code.expires_at or code.attempts >= max_attempts):
            return None
        code.attempts += 1
        return copy.deepcopy(code)

    async def spend_code(self, subject: str, purpose: str, code_hash: str) -> bool:
        code = self._codes.get((subject, purpose))
        if code is None or code.code_hash != code_hash:
            return False
        code.code_hash = code.new_email = code.expires_at = None
        return True

    async def change_email(self, email: str, new_email: str) -> None:
        if new_email in self._by_email:
            raise EmailInUse()
        credential = self._by_email.pop(email, None)
        if credential is None:
            raise NotFound("credential not found")
        credential.email = new_email
        self._by_email[new_email] = credential

    async def delete_subject(self, subject: str) -> None:
        for email, credential in list(self._by_email.items()):
            if credential.subject == subject:
                del self._by_email[email]
        for key in [key for key in self._codes if key[0] == subject]:
            del self._codes[key]
