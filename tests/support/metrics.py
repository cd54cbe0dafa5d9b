"""Reading a process's metrics as Prometheus does: GET /metrics on the metrics port."""

import socket
from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def scrape_text(port: int) -> str:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def scrape(port: int) -> Samples:
    """Every sample by (name, labels)."""
    samples: Samples = {}
    for family in text_string_to_metric_families(await scrape_text(port)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample with exactly these labels (0 when absent, as Prometheus would show)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def label_values(samples: Samples, name: str, label: str,
                 where: Mapping[str, str] | None = None) -> set[str]:
    """The values `label` takes on `name`'s samples (optionally filtered by other labels)."""
    found = set()
    for (sample_name, labels), _ in samples.items():
        given = dict(labels)
        if sample_name == name and label in given and all(
                given.get(k) == v for k, v in (where or {}).items()):
            found.add(given[label])
    return found
