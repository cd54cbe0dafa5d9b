"""Transfer codes: a one-time code that moves an account to a new phone."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.shared.errors import InvalidInput, NotFound

# Crockford's base32: 32 symbols, no I, L, O or U; those are read as 1, 1, 0 on input.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 bits
GROUP = 4
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


class InvalidTransferCode(NotFound):
    """This transfer code is not valid, was already used or has expired."""

    code = "invalid_transfer_code"


class MalformedTransferCode(InvalidInput):
    """Transfer codes are 16 letters and digits, e.g. ABCD-EFGH-JKMN-PQRS."""

    code = "invalid_transfer_code_format"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalize_code(typed: str) -> str:
    """What a person typed -> the canonical 16 symbols (case, spaces, dashes forgiven)."""
    cleaned = "".join(typed.split()).replace("-", "").upper().translate(_READ_AS)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        raise MalformedTransferCode()
    return cleaned


def hash_code(typed: str) -> str:
    return hashlib.sha256(normalize_code(typed).encode()).hexdigest()


@dataclass
class TransferCode:
    """Stored hashed; single use; expires; a newer code voids the older one."""

    code_hash: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    voided_at: datetime | None = None

    @classmethod
    def issue(
        cls, user_id: str, now: datetime, lifetime: timedelta
    ) -> tuple["TransferCode", str]:
        code = new_code()
        return cls(hash_code(code), user_id, now, now + lifetime), code

    def is_live(self, now: datetime) -> bool:
        return self.used_at is None and self.voided_at is None and now < self.expires_at

    def redeem(self, now: datetime) -> None:
        if not self.is_live(now):
            raise InvalidTransferCode()
        self.used_at = now

    def void(self, now: datetime) -> None:
        if self.used_at is None and self.voided_at is None:
            self.voided_at = now
