"""Cold-start cost of the Cognito trigger handlers, from the built zip, in fresh clean
interpreters (`python -I -S`, the unpacked zip as the only path entry).

Not collected by default (tests/bench is in norecursedirs); run it explicitly:

    uv run pytest tests/bench/test_lambda_import.py -s

Figures go to docs/performance.md.
"""

import importlib.util
import json
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUNS = 15
GOAL_MS = 150.0

MEASURE = """
import sys, time
def now(): return time.perf_counter(), time.process_time()
t0 = now()
sys.path.insert(0, sys.argv[1])
import entrypoints.lambdas.cognito_triggers as handler
t1 = now()
handler.pre_sign_up({"request": {"userAttributes": {"email": "ada@example.com"}}}, None)
t2 = now()
import adapters.sql.unit_of_work, adapters.sql.engine, sqlalchemy.ext.asyncio, asyncpg
t3 = now()
import json
def ms(a, b, i): return (b[i] - a[i]) * 1000
print(json.dumps({
    "import_wall": ms(t0, t1, 0), "import_cpu": ms(t0, t1, 1),
    "first_pre_sign_up_wall": ms(t1, t2, 0), "first_pre_sign_up_cpu": ms(t1, t2, 1),
    "sql_slice_wall": ms(t2, t3, 0), "sql_slice_cpu": ms(t2, t3, 1),
}))
"""


def build(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location("lambda_build", ROOT / "deploy/lambda/build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    archive: Path = module.build(download_wheels=False, out=out)
    return archive


def run(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-I", "-S", *args], capture_output=True, text=True,
                          check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_handler_import_time(tmp_path: Path) -> None:
    archive = build(tmp_path / "build")
    task = tmp_path / "task"
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(task)
    run(["-c", MEASURE, str(task)])  # warm the OS page cache once
    samples = [run(["-c", MEASURE, str(task)]) for _ in range(RUNS)]
    def summary(key: str) -> dict[str, float]:
        values = [sample[key] for sample in samples]
        return {"median": round(statistics.median(values), 1),
                "min": round(min(values), 1), "max": round(max(values), 1)}

    report = {"runs": RUNS, "zip_kib": archive.stat().st_size // 1024,
              **{key: summary(key) for key in samples[0]}}
    print(json.dumps(report, indent=2))
    # CPU time: what the import costs without the other processes of a shared test box.
    assert report["import_cpu"]["median"] <= GOAL_MS  # type: ignore[index]
