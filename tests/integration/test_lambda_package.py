"""The built Lambda zip, unpacked into an empty folder, imports and runs in a clean
interpreter (no site-packages, no project checkout): nothing it needs is missing."""

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.postgres import run_async
from tests.support.lambda_events import event

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
SUB = "0d5e7f1a-3b2c-4d6e-8f9a-1b2c3d4e5f60"

RUN_IN_CLEAN_INTERPRETER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import entrypoints.lambdas.cognito_triggers as handler
import sqlalchemy, asyncpg, greenlet
assert all(m.__file__.startswith(sys.argv[1]) for m in (handler, sqlalchemy, asyncpg, greenlet))
events = json.loads(sys.argv[2])
handler.pre_sign_up(events["pre"], None)
try:
    handler.pre_sign_up(events["blocked"], None)
    refused = False
except handler.SignUpRefused:
    refused = True
handler.post_confirmation(events["post"], None)
handler.post_confirmation(events["post"], None)
heavy = {"litestar", "pydantic", "pydantic_settings", "msgspec", "httpx", "aioboto3", "boto3"}
print(json.dumps({
    "refused": refused,
    "loaded_heavy": sorted({m.split(".")[0] for m in sys.modules} & heavy),
    "site": "site" in sys.modules,
    "path": sys.path,
}))
"""


def load_build_script() -> Any:
    spec = importlib.util.spec_from_file_location("lambda_build", ROOT / "deploy/lambda/build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def count_users(url: str, subject: str) -> int:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from adapters.sql.tables import users

    async def count() -> int:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as connection:
            found = await connection.scalar(
                select(func.count()).select_from(users).where(users.c.external_id == subject))
        await engine.dispose()
        return int(found or 0)

    return run_async(count)


def test_the_zip_runs_its_handlers_in_an_empty_folder_with_a_clean_interpreter(
    tmp_path: Path, postgres_url: str, pg_engine: Any,
) -> None:
    archive = load_build_script().build(download_wheels=False, out=tmp_path / "build")
    manifest = json.loads((tmp_path / "build" / "cognito_triggers.manifest.json").read_text())
    assert {d["name"] for d in manifest["dependencies"]} == {
        "SQLAlchemy", "greenlet", "asyncpg", "typing_extensions"}
    assert not any(f.startswith(("entrypoints/mobile_api", "entrypoints/admin_api"))
                   for f in manifest["project_files"])

    unpacked = tmp_path / "task"
    unpacked.mkdir()
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        bundle.extractall(unpacked)
    assert "entrypoints/lambdas/cognito_triggers.py" in names
    assert not any(n.startswith(("litestar/", "pydantic/", "boto3/")) for n in names)
    assert any(n.endswith(".cpython-311.pyc") for n in names)

    events = {
        "pre": event("pre_sign_up"),
        "blocked": event("pre_sign_up", email="someone@mailinator.com"),
        "post": event("post_confirmation", sub=SUB, email="zip@example.com"),
    }
    environment = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": postgres_url,
                   "ATELIER_BLOCKED_EMAIL_DOMAINS": "mailinator.com"}
    # -I: no PYTHON* variables, no user site; -S: no site-packages at all.
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUN_IN_CLEAN_INTERPRETER, str(unpacked),
         json.dumps(events)],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["refused"] is True
    assert result["loaded_heavy"] == []
    assert result["site"] is False
    assert not any("site-packages" in p for p in result["path"])
    assert count_users(postgres_url, SUB) == 1
