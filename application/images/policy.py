from dataclasses import dataclass, field

from domain.images.quota import DailyQuota

# Outbox topics: what a committed change still has to tell the world.
IMAGE_REQUESTED = "image.requested"
IMAGE_READY = "image.ready"
IMAGE_READY_EMAIL = "image.ready.email"


@dataclass(frozen=True)
class ImagePolicy:
    """The image pipeline's limits and timings (quota, links, retries), from settings."""

    quota: DailyQuota = field(default_factory=DailyQuota)
    url_ttl_seconds: int = 300
    visibility_timeout: float = 60.0
    max_receives: int = 5
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 300.0
    page_size: int = 20
    max_page_size: int = 100

    def retry_delay(self, receive_count: int, retry_after: float | None) -> float:
        """Exponential backoff by receive count; a generator's Retry-After wins if longer."""
        backoff: float = self.retry_base_seconds * 2.0 ** max(0, receive_count - 1)
        return min(self.retry_cap_seconds, max(backoff, retry_after or 0.0))
