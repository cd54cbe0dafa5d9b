import uuid


def new_id() -> str:
    """A random, URL-safe identifier (UUID4, 32 hex characters)."""
    return uuid.uuid4().hex
