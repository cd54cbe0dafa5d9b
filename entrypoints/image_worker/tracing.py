"""The worker's generation and upload as spans of the job's trace: the generator and the
object store ProcessImageJob uses, wrapped (the use case itself knows nothing of traces)."""

from opentelemetry.trace import SpanKind

from application.ports.images import ImageGenerator, ObjectStore
from domain.images.options import ImageRequest
from entrypoints.wiring.tracing import tracer


class TracedImageGenerator:
    """`image.generate` around each generation."""

    def __init__(self, generator: ImageGenerator) -> None:
        self._generator = generator

    async def generate(self, request: ImageRequest) -> bytes:
        with tracer().start_as_current_span(
                "image.generate", kind=SpanKind.CLIENT,
                attributes={"image.size": str(request.size),
                            "image.quality": str(request.quality)}):
            return await self._generator.generate(request)


class TracedObjectStore:
    """`image.upload` around each put; everything else passes straight through."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        with tracer().start_as_current_span(
                "image.upload", kind=SpanKind.CLIENT, attributes={"image.bytes": len(data)}):
            await self._store.put(key, data, content_type)

    async def get(self, key: str) -> bytes | None:
        return await self._store.get(key)

    async def delete(self, key: str) -> None:
        await self._store.delete(key)

    async def exists(self, key: str) -> bool:
        return await self._store.exists(key)

    async def download_url(self, key: str, expires_in: int) -> str:
        return await self._store.download_url(key, expires_in)
