"""What tracing with no exporter costs `/me` and refresh end to end in the server, on
PostgreSQL: tests/bench/tracing_cost_inprocess.py in a process of its own, the tracer
provider switched between interleaved rounds (off, ids only, the SDK's never-sampling
provider). Goal: ids only within 5 % of off in CPU per request.

    uv run python -m tests.bench.bench_tracing_cost     # BENCH_ROUNDS (15), ~3 min
"""

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.bench_identity import drop_database, make_database

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = os.environ.get("BENCH_ROUNDS", "15")


def main() -> None:
    name, url = asyncio.run(make_database())
    try:
        with tempfile.TemporaryDirectory(dir=ROOT / ".atelier") as data_dir:
            environment = {
                **os.environ, "DATABASE_URL": url, "ATELIER_DATA_DIR": data_dir,
                "ATELIER_METRICS_PORT": "0", "ATELIER_LOG_LEVEL": "WARNING",
                "ATELIER_RATE_LIMIT_DEFAULT_PER_MINUTE": "100000000",
                "ATELIER_RATE_LIMIT_GUESTS_PER_MINUTE": "100000000",
                "ATELIER_RATE_LIMIT_SESSIONS_PER_MINUTE": "100000000"}
            environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
            subprocess.run([sys.executable, "-m", "tests.bench.tracing_cost_inprocess",
                            ROUNDS, "300", "100"], env=environment, cwd=ROOT, check=True)
    finally:
        asyncio.run(drop_database(name))


if __name__ == "__main__":
    main()
