"""The embedded default's generator: a deterministic picture per prompt (Pillow), offline."""

import asyncio
import hashlib
import io
import random

from PIL import Image, ImageDraw

from domain.images.options import ImageRequest, ImageSize

DIMENSIONS = {
    ImageSize.SQUARE: (1024, 1024),
    ImageSize.LANDSCAPE: (1536, 1024),
    ImageSize.PORTRAIT: (1024, 1536),
    ImageSize.AUTO: (1024, 1024),
}


class LocalImageGenerator:
    """Same prompt, size and quality -> the same PNG. `delay_seconds` stands in for the
    time a real model takes (tests use it to act mid-generation)."""

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self._delay = delay_seconds

    async def generate(self, request: ImageRequest) -> bytes:
        if self._delay > 0:
            await asyncio.sleep(self._delay)
        return await asyncio.to_thread(render, request)


def render(request: ImageRequest) -> bytes:
    seed = hashlib.sha256(
        f"{request.prompt}\n{request.size.value}\n{request.quality.value}".encode()).digest()
    rng = random.Random(seed)
    width, height = DIMENSIONS[request.size]
    # Draw small and scale up: cheap, and the picture is smooth rather than noisy.
    small = Image.new("RGB", (width // 16, height // 16), _colour(rng))
    draw = ImageDraw.Draw(small)
    for _ in range(6 + rng.randrange(6)):
        x0, y0 = rng.randrange(small.width), rng.randrange(small.height)
        x1, y1 = x0 + rng.randrange(4, small.width // 2), y0 + rng.randrange(4, small.height // 2)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x0, y0, x1, y1), fill=_colour(rng))
    picture = small.resize((width, height), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)
