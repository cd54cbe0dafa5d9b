"""What may be asked of gpt-image-1: a prompt, a size, a quality."""

from dataclasses import dataclass
from enum import StrEnum

from domain.images.errors import (
    InvalidIdempotencyKey,
    InvalidImageQuality,
    InvalidImageSize,
    InvalidPrompt,
)

MAX_PROMPT = 4000


class ImageSize(StrEnum):
    SQUARE = "1024x1024"
    LANDSCAPE = "1536x1024"
    PORTRAIT = "1024x1536"
    AUTO = "auto"


class ImageQuality(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    AUTO = "auto"


DEFAULT_SIZE, DEFAULT_QUALITY = ImageSize.SQUARE, ImageQuality.AUTO


ALLOWED_CONTROLS = frozenset("\n\t\r")


def check_prompt(prompt: str) -> str:
    if not prompt.strip() or len(prompt) > MAX_PROMPT:
        raise InvalidPrompt()
    if any(not ch.isprintable() and ch not in ALLOWED_CONTROLS for ch in prompt):
        raise InvalidPrompt()
    return prompt


def parse_size(raw: str | None) -> ImageSize:
    if raw is None:
        return DEFAULT_SIZE
    try:
        return ImageSize(raw)
    except ValueError:
        raise InvalidImageSize() from None


def parse_quality(raw: str | None) -> ImageQuality:
    if raw is None:
        return DEFAULT_QUALITY
    try:
        return ImageQuality(raw)
    except ValueError:
        raise InvalidImageQuality() from None


@dataclass(frozen=True)
class ImageRequest:
    """A validated request: what the generator is asked for."""

    prompt: str
    size: ImageSize
    quality: ImageQuality

    @classmethod
    def parse(cls, prompt: str, size: str | None, quality: str | None) -> "ImageRequest":
        return cls(check_prompt(prompt), parse_size(size), parse_quality(quality))


MAX_IDEMPOTENCY_KEY = 255


def check_idempotency_key(raw: str | None) -> str | None:
    """None stays None; otherwise 1-255 printable ASCII characters."""
    if raw is None:
        return None
    if not 1 <= len(raw) <= MAX_IDEMPOTENCY_KEY or not all(" " <= ch <= "~" for ch in raw):
        raise InvalidIdempotencyKey()
    return raw
