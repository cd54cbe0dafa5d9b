"""Metrics turned off (`metrics_port` 0): every count is dropped, at no cost."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from application.ports.metrics import RefreshOutcome


class NoMetrics:
    """Same surface as `PrometheusMetrics`; does nothing."""

    def refresh_finished(self, outcome: RefreshOutcome) -> None:
        pass

    def maintenance_finished(
        self, outcome: Literal["succeeded", "failed"], deleted: Mapping[str, int]
    ) -> None:
        pass

    def http_request(
        self, entrypoint: str, route: str, method: str, status: int, seconds: float
    ) -> None:
        pass

    def handshake(self, outcome: str, reason: str) -> None:
        pass

    def watch_gateway(
        self, sockets_open: Callable[[], int], slow_consumers_closed: Callable[[], int]
    ) -> None:
        pass

    def messages_delivered(self, count: int) -> None:
        pass

    def jwks_fetched(self, outcome: str) -> None:
        pass

    def job_finished(self, outcome: str) -> None:
        pass

    def generation_took(self, seconds: float) -> None:
        pass

    def outbox_lag(self, seconds: float) -> None:
        pass

    def queue_depth(self, queue: str, messages: int) -> None:
        pass

    def sample_on_scrape(self, sampler: Callable[[], Awaitable[None]]) -> None:
        pass
