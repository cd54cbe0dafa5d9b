"""What the image rules refuse, each with the code clients see."""

from domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests


class InvalidPrompt(InvalidInput):
    """Prompts are 1 to 4,000 printable characters (new lines and tabs allowed)."""

    code = "invalid_prompt"


class InvalidImageSize(InvalidInput):
    """size is one of 1024x1024, 1536x1024, 1024x1536 or auto."""

    code = "invalid_size"


class InvalidImageQuality(InvalidInput):
    """quality is one of low, medium, high or auto."""

    code = "invalid_quality"


class InvalidIdempotencyKey(InvalidInput):
    """Idempotency-Key is 1 to 255 printable characters."""

    code = "invalid_idempotency_key"


class IdempotencyKeyReused(InvalidInput):
    """This Idempotency-Key was already used for a different request."""

    code = "idempotency_key_reused"


class ImageNotFound(NotFound):
    """No such image."""

    code = "image_not_found"


class InvalidImageTransition(Conflict):
    """The image job cannot make this move from its current state."""

    code = "invalid_image_transition"


class DailyQuotaExceeded(TooManyRequests):
    """You have reached today's image limit; it resets at midnight UTC."""

    code = "daily_quota_exceeded"


class InvalidCursor(InvalidInput):
    """The cursor is not valid."""

    code = "invalid_cursor"


class SignedUrlRefused(Forbidden):
    """This download link has expired or is not valid."""

    code = "invalid_download_url"


class SignedUrlExpired(SignedUrlRefused):
    """This download link has expired; fetch the image again for a fresh one."""

    code = "download_url_expired"
