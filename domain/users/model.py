import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.shared.errors import Conflict, Forbidden, InvalidInput
from domain.users.passwords import PASSWORD_POLICY

# A plain addr-spec, nothing more: a dot-atom local part (RFC 5322 atext, ASCII) and an ASCII
# domain (international names arrive IDNA-encoded). No display name, angle brackets, comments,
# quoting, lists or encoded words: the mail system must deliver to this string and no other.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
EMAIL_RE = re.compile(rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?:{_LABEL}\.)+[a-z0-9-]{{2,63}}")
ENCODED_WORD = "=?"
MAX_EMAIL, MAX_LOCAL_PART = 254, 64
MIN_PASSWORD, MAX_PASSWORD = PASSWORD_POLICY.min_length, PASSWORD_POLICY.max_length
SEEN_GRANULARITY = timedelta(hours=1)


class UserKind(StrEnum):
    GUEST = "guest"
    MEMBER = "member"


class UserStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class InvalidEmail(InvalidInput):
    """The e-mail address is not valid."""

    code = "invalid_email"


class WeakPassword(InvalidInput):
    """Passwords are 12 to 256 characters, and not a commonly used one."""

    code = "invalid_password"


class EmailInUse(Conflict):
    """This e-mail address is already registered."""

    code = "email_in_use"


class AlreadyMember(Conflict):
    """This account is already registered."""

    code = "already_member"


class NotAGuest(Forbidden):
    """Only a guest account can do this."""

    code = "not_a_guest"


class UserDisabled(Forbidden):
    """This account is disabled."""

    code = "account_disabled"


def normalize_email(raw: str) -> str:
    """The address in its one stored form (lower case), or InvalidEmail."""
    email = raw.strip().lower()
    matched = EMAIL_RE.fullmatch(email) if len(email) <= MAX_EMAIL else None
    if (matched is None or len(matched["local"]) > MAX_LOCAL_PART
            or ENCODED_WORD in matched["local"]):
        raise InvalidEmail()
    return email


def check_password(password: str) -> str:
    if not PASSWORD_POLICY.allows(password):
        raise WeakPassword()
    return password


@dataclass
class User:
    """A guest or a member: the same user, whose `kind` changes on upgrade."""

    id: str
    kind: UserKind
    created_at: datetime
    last_seen_at: datetime
    status: UserStatus = UserStatus.ACTIVE
    email: str | None = None
    email_confirmed: bool = False
    external_id: str | None = None
    display_name: str | None = None
    notify_by_email: bool = False
    version: int = field(default=0, compare=False)

    @classmethod
    def new_guest(cls, user_id: str, now: datetime) -> "User":
        return cls(id=user_id, kind=UserKind.GUEST, created_at=now, last_seen_at=now)

    @classmethod
    def new_member(cls, user_id: str, email: str, external_id: str, now: datetime) -> "User":
        return cls(
            id=user_id, kind=UserKind.MEMBER, created_at=now, last_seen_at=now,
            email=email, external_id=external_id,
        )

    @classmethod
    def new_member_by_identity(cls, user_id: str, email: str | None, now: datetime) -> "User":
        """A member who signed in with Apple or Google: no password login (no external
        id); an address the provider vouched for is confirmed."""
        return cls(
            id=user_id, kind=UserKind.MEMBER, created_at=now, last_seen_at=now,
            email=email, email_confirmed=email is not None,
        )

    def upgrade_by_identity(self, email: str | None) -> None:
        """Guest -> member in place by an Apple or Google sign-in: same id, nothing copied."""
        if not self.is_guest:
            raise AlreadyMember()
        self.kind = UserKind.MEMBER
        self.email, self.email_confirmed = email, email is not None

    @property
    def has_password(self) -> bool:
        """A password login exists at the identity provider (its subject is kept)."""
        return self.external_id is not None

    @property
    def is_guest(self) -> bool:
        return self.kind is UserKind.GUEST

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    def ensure_active(self) -> None:
        if self.status is UserStatus.DISABLED:
            raise UserDisabled()

    def upgrade(self, email: str, external_id: str) -> None:
        """Guest -> member in place: same id, nothing copied."""
        if not self.is_guest:
            raise AlreadyMember()
        self.kind = UserKind.MEMBER
        self.email = email
        self.external_id = external_id
        self.email_confirmed = False

    def confirm_email(self) -> None:
        self.email_confirmed = True

    def update_profile(self, display_name: str | None, notify_by_email: bool | None) -> None:
        if display_name is not None:
            name = display_name.strip()
            if not 1 <= len(name) <= 64 or not name.isprintable():
                raise InvalidInput("display_name is 1 to 64 printable characters")
            self.display_name = name
        if notify_by_email is not None:
            self.notify_by_email = notify_by_email

    def touch(self, now: datetime) -> bool:
        """Records activity, to the hour (it only drives the idle-guest purge); True when
        the stored value must change."""
        if now - self.last_seen_at < SEEN_GRANULARITY:
            return False
        self.last_seen_at = now
        return True

    def disable(self) -> None:
        self.status = UserStatus.DISABLED

    def enable(self) -> None:
        self.status = UserStatus.ACTIVE
