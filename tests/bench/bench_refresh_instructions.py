"""Refresh vs the bare route in CPU instructions of the server process (valgrind callgrind),
which the load of a shared machine cannot move, with where a refresh's instructions go:
the HTTP stack, the use case, the token building and, inside it, libsodium's Ed25519
signing. Also the ceiling that signing alone sets: the refresh/bare ratio if everything a
refresh does besides its two signatures cost no more than the bare route.

Each part runs in its own process (tests/bench/refresh_instructions_inprocess.py) under
callgrind with instrumentation switched on for its N calls only (start-up, sign-up and
warm-up are not counted). PostgreSQL's backend is another process: not counted here
(bench_refresh reports its CPU per refresh).

    uv run python -m tests.bench.bench_refresh_instructions [--calls 256] [--only PART]

~1-2 min; needs valgrind.
"""

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.bench.bench_identity import drop_database, make_database
from tests.bench.bench_tracing_instructions import callgrind_environment
from tests.bench.refresh_instructions_inprocess import PARTS

ROOT = Path(__file__).resolve().parents[2]
GOAL = 0.3  # refresh >= 0.3x the bare route
# libsodium's Ed25519 signing, inclusive: every other signing entry point calls it.
_SIGNING = re.compile(r"^\s*([\d,]+) \(.*:_?crypto_sign_ed25519_detached \[", re.MULTILINE)


def counted(part: str, calls: int, database_url: str, work: Path) -> tuple[int, int]:
    """(instructions, of which Ed25519 signing) for `calls` calls of `part`."""
    out = work / f"callgrind.{part}"
    environment = callgrind_environment(database_url, work / part, {
        "ATELIER_KEYSTORE": "file", "ATELIER_REUSE_INTERVAL_SECONDS": "10"})
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         sys.executable, "-m", "tests.bench.refresh_instructions_inprocess", part, str(calls)],
        env=environment, cwd=ROOT, capture_output=True, text=True, check=False)
    total = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or total is None:
        raise SystemExit(f"{part}: the run failed\n{done.stderr[-3000:]}")
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
        capture_output=True, text=True, check=True).stdout
    signing = max((int(n.replace(",", "")) for n in _SIGNING.findall(annotated)), default=0)
    return int(total.group(1)), signing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=256, help="calls counted per part")
    parser.add_argument("--only", choices=PARTS, help="count this part alone (quick checks)")
    options = parser.parse_args()
    calls, parts = options.calls, (options.only,) if options.only else PARTS
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    name, url = asyncio.run(make_database())
    work = Path(tempfile.mkdtemp(prefix="bench-refresh-instructions-", dir=ROOT / ".atelier"))
    try:
        with ThreadPoolExecutor(len(parts)) as pool:
            futures = {part: pool.submit(counted, part, calls, url, work) for part in parts}
            found = {part: future.result() for part, future in futures.items()}
    finally:
        asyncio.run(drop_database(name))
        shutil.rmtree(work, ignore_errors=True)
    per = {part: total / calls for part, (total, _) in found.items()}
    if options.only:
        print(json.dumps({"instructions_per_call": {options.only: round(per[options.only])},
                          "of_which_signing": round(found[options.only][1] / calls)}))
        return
    signing = found["refresh"][1] / calls
    bare, refresh = per["bare"], per["refresh"]
    print(json.dumps({
        "instructions_per_call": {part: round(value) for part, value in per.items()},
        "refresh_vs_bare": round(bare / refresh, 3),
        "ed25519_signing_per_refresh": round(signing),
        "signing_share_of_refresh": round(signing / refresh, 3),
        # The best refresh/bare ratio with the two signatures: everything else a refresh
        # does costing no more than the bare route does.
        "ceiling_with_signing_alone": round(bare / (bare + signing), 3),
        "refresh_budget_at_goal": round(bare / GOAL),
        "left_at_goal_besides_bare_and_signing": round(bare / GOAL - bare - signing),
        "refresh_beyond_bare_and_signing": round(refresh - bare - signing),
        "tokens_besides_signing": round(per["tokens"] - found["tokens"][1] / calls),
        "calls": calls,
    }, indent=2))


if __name__ == "__main__":
    main()
