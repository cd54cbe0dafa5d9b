"""Opaque page cursors: the (created_at, id) of the last image a page showed."""

import base64
import binascii
from datetime import datetime

from domain.images.errors import InvalidCursor


def encode_cursor(created_at: datetime, image_id: str) -> str:
    raw = f"{created_at.isoformat()}|{image_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, image_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(when)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor() from None
    if created_at.tzinfo is None or not image_id:
        raise InvalidCursor()
    return created_at, image_id
