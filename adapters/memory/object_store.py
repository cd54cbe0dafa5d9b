from urllib.parse import quote


class InMemoryObjectStore:
    """Objects in a dict; URLs are `memory://` and only meaningful to tests."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (bytes(data), content_type)

    async def get(self, key: str) -> bytes | None:
        found = self.objects.get(key)
        return found[0] if found is not None else None

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def exists(self, key: str) -> bool:
        return key in self.objects

    async def download_url(self, key: str, expires_in: int) -> str:
        return f"memory://objects/{quote(key)}?expires_in={expires_in}"
