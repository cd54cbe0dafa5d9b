"""KeyRing <-> JSON, shared by the file and Secrets Manager key stores.

Bytes are base64url without padding, datetimes ISO 8601 with their offset.
"""

import base64
import json
from datetime import datetime
from typing import Any

from domain.keys.model import KeyState, SigningKey
from domain.keys.ring import KeyRing

FORMAT_VERSION = 1
_TIMESTAMPS = ("activated_at", "retiring_at", "retired_at", "revoked_at")


class KeyRingFormatError(ValueError):
    """The stored key ring is not in a format this code understands."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _key_to_dict(key: SigningKey) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kid": key.kid,
        "public_key": _b64encode(key.public_key),
        "private_key": _b64encode(key.private_key),
        "state": key.state.value,
        "created_at": key.created_at.isoformat(),
    }
    for name in _TIMESTAMPS:
        data[name] = _when(getattr(key, name))
    return data


def _key_from_dict(data: dict[str, Any]) -> SigningKey:
    created_at = _parse_when(data["created_at"])
    assert created_at is not None
    return SigningKey(
        kid=data["kid"],
        public_key=_b64decode(data["public_key"]),
        private_key=_b64decode(data["private_key"]),
        state=KeyState(data["state"]),
        created_at=created_at,
        **{name: _parse_when(data.get(name)) for name in _TIMESTAMPS},
    )


def dumps(ring: KeyRing) -> str:
    return json.dumps(
        {"version": FORMAT_VERSION, "keys": [_key_to_dict(k) for k in ring.keys]}, indent=2
    )


def loads(text: str) -> KeyRing:
    try:
        document = json.loads(text)
        if document.get("version") != FORMAT_VERSION:
            raise KeyRingFormatError(f"unsupported key ring version {document.get('version')!r}")
        return KeyRing(keys=[_key_from_dict(k) for k in document["keys"]])
    except KeyRingFormatError:
        raise
    # Never chain the original error: its message could quote private key material.
    except (ValueError, KeyError, TypeError, AttributeError):
        raise KeyRingFormatError("the stored key ring is malformed") from None
