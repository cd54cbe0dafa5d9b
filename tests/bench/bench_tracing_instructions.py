"""What tracing without an exporter costs `/me` and refresh, in CPU instructions (valgrind
callgrind) rather than seconds: the count does not move with the load of a shared machine,
so a 5 % goal can be checked on a busy one.

tests/bench/metrics_cost_inprocess.py (the mobile API's ASGI app called directly, on
PostgreSQL, metrics off) runs under callgrind with tracing off and on (no
OTEL_EXPORTER_OTLP_ENDPOINT: ids only), three times each, all six at once: N `/me` and R
refreshes, 2N and R, N and 2R. The differences are the instructions of N more `/me` and R
more refreshes, start-up and sign-up cancelled out. Counts the server process only
(PostgreSQL's backend is another process). Work that runs by the clock rather than per
request (the outbox relay's polling, the key ring's refresh, the session cache's expiry)
is set to an hour: under callgrind a run lasts minutes, and that work would otherwise be
counted as the requests'.

    uv run python -m tests.bench.bench_tracing_instructions     # ~15 min; needs valgrind
"""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.bench.bench_identity import drop_database, make_database

ROOT = Path(__file__).resolve().parents[2]
ME, REFRESH = int(os.environ.get("BENCH_ME", "100")), int(os.environ.get("BENCH_REFRESH", "40"))
VARIANTS = {"off": {"ATELIER_TRACING_ENABLED": "false"},
            "ids only": {"ATELIER_TRACING_ENABLED": "true"}}


def callgrind_environment(
    database_url: str, data_dir: Path, env: dict[str, str]
) -> dict[str, str]:
    """The settings of a mobile API counted under callgrind: no rate limit in the way, no
    exporter, and the work that runs by the clock rather than per request set to an hour."""
    environment = {
        **os.environ, "DATABASE_URL": database_url, "ATELIER_DATA_DIR": str(data_dir),
        "ATELIER_RATE_LIMIT_DEFAULT_PER_MINUTE": "100000000",
        "ATELIER_RATE_LIMIT_GUESTS_PER_MINUTE": "100000000",
        "ATELIER_RATE_LIMIT_SESSIONS_PER_MINUTE": "100000000",
        "ATELIER_LOG_LEVEL": "WARNING", "ATELIER_METRICS_PORT": "0", "PYTHONHASHSEED": "0",
        "ATELIER_OUTBOX_POLL_SECONDS": "3600", "ATELIER_KEY_REFRESH_SECONDS": "3600",
        "ATELIER_AUTH_CACHE_SECONDS": "3600", **env}
    environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    return environment


def instructions(database_url: str, work: Path, env: dict[str, str], me: int,
                 refresh: int) -> int:
    environment = callgrind_environment(
        database_url, Path(tempfile.mkdtemp(dir=work)), env)
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         "-m", "tests.bench.metrics_cost_inprocess", str(me), str(refresh)],
        env=environment, cwd=ROOT, capture_output=True, text=True, check=True).stderr
    return int(re.search(r"Collected : (\d+)", out).group(1))  # type: ignore[union-attr]


def main() -> None:
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    name, url = asyncio.run(make_database())
    work = Path(tempfile.mkdtemp(prefix="bench-instructions-", dir=ROOT / ".atelier"))
    calls = {"base": (ME, REFRESH), "me": (2 * ME, REFRESH), "refresh": (ME, 2 * REFRESH)}
    try:
        with ThreadPoolExecutor(len(VARIANTS) * len(calls)) as pool:
            counted = {(label, part): pool.submit(instructions, url, work, env, *n)
                       for label, env in VARIANTS.items() for part, n in calls.items()}
            found = {key: future.result() for key, future in counted.items()}
    finally:
        asyncio.run(drop_database(name))
        shutil.rmtree(work, ignore_errors=True)
    per = {label: {"me": (found[label, "me"] - found[label, "base"]) / ME,
                   "refresh": (found[label, "refresh"] - found[label, "base"]) / REFRESH}
           for label in VARIANTS}
    print(json.dumps({
        "instructions_per_request": {
            label: {op: round(v) for op, v in figures.items()} for label, figures in per.items()},
        "ids_only_vs_off": {op: round(per["ids only"][op] / per["off"][op], 4)
                            for op in ("me", "refresh")},
        "calls": {"me": ME, "refresh": REFRESH},
    }, indent=2))


if __name__ == "__main__":
    main()
