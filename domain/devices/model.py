import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.shared.errors import InvalidInput

MIN_DEVICE_ID, MAX_DEVICE_ID = 10, 128
_DEVICE_ID = re.compile(rf"[!-~]{{{MIN_DEVICE_ID},{MAX_DEVICE_ID}}}")  # checked on every refresh


class Platform(StrEnum):
    IOS = "ios"
    ANDROID = "android"


class InvalidDeviceId(InvalidInput):
    """Device ids are 10 to 128 printable characters without spaces."""

    code = "invalid_device_id"


class InvalidPlatform(InvalidInput):
    """platform is `ios` or `android`."""

    code = "invalid_platform"


def validate_device_id(raw: str) -> str:
    """IDFV, ANDROID_ID or a Firebase installation id: printable ASCII, no spaces."""
    if _DEVICE_ID.fullmatch(raw) is None:
        raise InvalidDeviceId()
    return raw


def parse_platform(raw: str) -> Platform:
    try:
        return Platform(raw)
    except ValueError:
        raise InvalidPlatform() from None


@dataclass
class Device:
    """A phone bound to a user; one phone may hold several users (a guest, then a member)."""

    user_id: str
    device_id: str
    platform: Platform
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def seen(self, platform: Platform, now: datetime) -> None:
        self.platform = platform
        self.last_seen_at = now
        self.revoked_at = None

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now
