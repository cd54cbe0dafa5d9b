"""What metrics and tracing (no exporter) cost `/me` and refresh, in CPU instructions
(valgrind callgrind) rather than seconds: the count does not move with the load of a shared
machine, so a 5 % goal can be checked on a busy one.

Each variant of tests/bench/bench_metrics_cost.py (`off`, `metrics`, `both`) runs
tests/bench/metrics_cost_inprocess.py (the mobile API's ASGI app called directly, on
PostgreSQL) under callgrind three times: N `/me` and R refreshes, 2N and R, N and 2R. The
differences are the instructions of N more `/me` and R more refreshes, start-up and sign-up
cancelled out. Counts the server process only (PostgreSQL's backend is another process).

    uv run python -m tests.bench.bench_metrics_cost_instructions     # ~10 min; needs valgrind

With BENCH_BEFORE_DIR set to a `git worktree` of another commit, `off` and `both` of that
build are counted too (`before/off`, `before/both`), side by side in the same run.
"""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.bench_identity import drop_database, make_database
from tests.bench.bench_metrics_cost import variants

ROOT = Path(__file__).resolve().parents[2]
ME, REFRESH = int(os.environ.get("BENCH_ME", "200")), int(os.environ.get("BENCH_REFRESH", "100"))


def instructions(database_url: str, work: Path, env: dict[str, str], me: int,
                 refresh: int, tree: Path = ROOT) -> int:
    environment = {
        **os.environ, "DATABASE_URL": database_url,
        "ATELIER_DATA_DIR": str(Path(tempfile.mkdtemp(dir=work))),
        "ATELIER_RATE_LIMIT_DEFAULT_PER_MINUTE": "100000000",
        "ATELIER_RATE_LIMIT_GUESTS_PER_MINUTE": "100000000",
        "ATELIER_RATE_LIMIT_SESSIONS_PER_MINUTE": "100000000",
        "ATELIER_LOG_LEVEL": "WARNING", "PYTHONHASHSEED": "0", **env}
    environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         "-m", "tests.bench.metrics_cost_inprocess", str(me), str(refresh)],
        env=environment, cwd=tree, capture_output=True, text=True, check=True).stderr
    return int(re.search(r"Collected : (\d+)", out).group(1))  # type: ignore[union-attr]


def main() -> None:
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    name, url = asyncio.run(make_database())
    work = Path(tempfile.mkdtemp(prefix="bench-instructions-", dir=ROOT / ".atelier"))
    per: dict[str, dict[str, float]] = {}
    runs = [(label, env, ROOT) for label, env in variants().items()]
    before = os.environ.get("BENCH_BEFORE_DIR")
    if before:
        runs += [(f"before/{label}", env, Path(before)) for label, env in variants().items()
                 if label != "metrics"]
    try:
        for label, env, tree in runs:
            base = instructions(url, work, env, ME, REFRESH, tree)
            more_me = instructions(url, work, env, 2 * ME, REFRESH, tree)
            more_refresh = instructions(url, work, env, ME, 2 * REFRESH, tree)
            per[label] = {"me": (more_me - base) / ME,
                          "refresh": (more_refresh - base) / REFRESH}
            print(f"{label}: {per[label]}", file=sys.stderr)
    finally:
        asyncio.run(drop_database(name))
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({
        "instructions_per_request": {
            label: {op: round(v) for op, v in figures.items()} for label, figures in per.items()},
        "vs_off": {f"{op}/{label}": round(per[label][op] / per["off"][op], 3)
                   for op in ("me", "refresh") for label in per if label != "off"},
        "calls": {"me": ME, "refresh": REFRESH},
    }, indent=2))


if __name__ == "__main__":
    main()
