"""Builds deploy/lambda/build/cognito_triggers.zip: the Cognito trigger handlers and only
what they import.

    uv run python deploy/lambda/build.py             # from this venv, no network
    uv run python deploy/lambda/build.py --download  # fetch Lambda wheels (network)

Project code: the modules the handlers import, found by importing them in a clean child
interpreter (entrypoints/lambdas, domain/, the application use cases and ports, and the
slice of adapters/sql behind the Unit of Work). Third-party: SQLAlchemy, greenlet (its
asyncio bridge), asyncpg and typing_extensions, copied file by file from the installed
distributions' RECORD, or downloaded as manylinux2014 x86_64 CPython 3.11 wheels with
`--download`. The build refuses distributions whose wheel tags do not run on the Lambda
`python3.11` runtime (x86_64, Amazon Linux 2, glibc 2.26). Everything is byte-compiled
(unchecked-hash .pyc: /var/task is read-only, so Lambda cannot cache them itself) and
zipped deterministically. A manifest beside the zip says what went in.
"""

import argparse
import compileall
import importlib.metadata as metadata
import json
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "deploy" / "lambda" / "build"
HANDLER_MODULE = "entrypoints.lambdas.cognito_triggers"
# Imported lazily by the handlers (bootstrap.uow_factory), so name them for the scan too.
LAZY_MODULES = ["adapters.sql.engine", "adapters.sql.unit_of_work"]
DISTRIBUTIONS = ["sqlalchemy", "greenlet", "asyncpg", "typing_extensions"]
PROJECT_PACKAGES = ("domain", "application", "adapters", "entrypoints")
# Never imported by the handlers: SQLAlchemy's other dialects and its test harness.
PRUNE = [
    "sqlalchemy/dialects/mssql", "sqlalchemy/dialects/mysql", "sqlalchemy/dialects/oracle",
    "sqlalchemy/testing", "sqlalchemy/ext/mypy",
]
RUNTIME = {"python": "3.11", "arch": "x86_64", "glibc": (2, 26)}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def project_modules() -> list[Path]:
    """Every project file the handler (and its lazily imported SQL slice) loads."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {[HANDLER_MODULE, *LAZY_MODULES]!r}: importlib.import_module(name)\n"
        "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True,  # noqa: S603
                         capture_output=True, text=True).stdout
    files = {Path(f).resolve() for f in json.loads(out.splitlines()[-1]) if f}
    chosen = {f for f in files if f.is_relative_to(ROOT)
              and f.relative_to(ROOT).parts[0] in PROJECT_PACKAGES}
    for file in list(chosen):  # every package on the way needs its __init__.py
        for parent in file.relative_to(ROOT).parents:
            init = ROOT / parent / "__init__.py"
            if parent.parts and init.exists():
                chosen.add(init)
    return sorted(chosen)


def _glibc_ok(tag: str) -> bool:
    if tag in ("any", "manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64"):
        return True
    found = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", tag)
    return bool(found) and (int(found[1]), int(found[2])) <= RUNTIME["glibc"]  # type: ignore[operator]


def check_wheel_tags(dist: metadata.Distribution) -> list[str]:
    wheel = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines()
            if line.startswith("Tag:")]
    usable = [t for t in tags if t.split("-")[0] in ("cp311", "py3", "py311")
              and _glibc_ok(t.split("-")[2])]
    if not usable:
        raise SystemExit(f"{dist.metadata['Name']} {dist.version} has no wheel tag for the "
                         f"Lambda python3.11 x86_64 runtime ({tags}); build with --download")
    return usable


def copy_installed(target: Path, path_entries: list[str] | None = None) -> list[dict[str, object]]:
    """Copies each distribution's files as its RECORD lists them (no scripts, no caches)."""
    report = []
    for name in DISTRIBUTIONS:
        dist = (metadata.distribution(name) if path_entries is None else
                next(metadata.distributions(name=name, path=path_entries)))
        tags = check_wheel_tags(dist)
        copied = 0
        for entry in dist.files or []:
            parts = entry.parts
            if parts[0] in ("..", "bin") or "__pycache__" in parts or entry.suffix == ".pyc":
                continue
            source = Path(str(dist.locate_file(entry)))
            if not source.is_file():
                continue
            destination = target / entry
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
            copied += 1
        report.append({"name": dist.metadata["Name"], "version": dist.version,
                       "files": copied, "wheel_tags": tags})
    return report


def download(target: Path) -> list[dict[str, object]]:
    """The explicit, networked path: Lambda wheels into a scratch dir, then copied."""
    BUILD.mkdir(parents=True, exist_ok=True)  # scratch stays inside the repository
    scratch = Path(tempfile.mkdtemp(prefix="lambda-wheels-", dir=BUILD))
    try:
        subprocess.run([  # noqa: S603 - fixed arguments, run only with --download
            shutil.which("uv") or "uv", "pip", "install", "--target", str(scratch),
            "--python-version", "3.11",
            "--python-platform", "x86_64-manylinux2014", "--only-binary", ":all:",
            "--no-deps", *DISTRIBUTIONS,
        ], check=True)
        return copy_installed(target, [str(scratch)])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def build(download_wheels: bool = False, out: Path = BUILD) -> Path:
    staging = out / "cognito_triggers"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    modules = project_modules()
    for file in modules:
        destination = staging / file.relative_to(ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)
    dependencies = download(staging) if download_wheels else copy_installed(staging)
    for pruned in PRUNE:
        shutil.rmtree(staging / pruned, ignore_errors=True)
    if not compileall.compile_dir(
        staging, quiet=1, workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    ):
        raise SystemExit("byte-compiling the package failed")
    archive = out / "cognito_triggers.zip"
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in files:
            info = zipfile.ZipInfo(str(path.relative_to(staging)), ZIP_TIME)
            info.external_attr = (0o755 if path.suffix == ".so" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes())
    manifest = {
        "handlers": [f"{HANDLER_MODULE}.pre_sign_up", f"{HANDLER_MODULE}.post_confirmation"],
        "runtime": "python3.11", "architecture": "x86_64",
        "built_with": sys.version.split()[0],
        "source": "downloaded wheels (manylinux2014_x86_64, cp311)" if download_wheels
        else "this virtualenv's installed distributions (no network)",
        "project_files": [str(p.relative_to(ROOT)) for p in modules],
        "dependencies": dependencies, "pruned": PRUNE,
        "zip_bytes": archive.stat().st_size, "files": len(files),
    }
    (out / "cognito_triggers.manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--download", action="store_true",
                        help="download Lambda wheels (needs the network) instead of copying "
                             "this venv's installed packages")
    parser.add_argument("--out", type=Path, default=BUILD)
    args = parser.parse_args()
    archive = build(args.download, args.out)
    print(f"{archive} ({archive.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
