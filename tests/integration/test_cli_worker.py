"""`atelier worker` on a data folder whose database was never upgraded stops at once with
one line telling the operator what to run, instead of logging a traceback every poll."""

from pathlib import Path

from tests.support.cli import clean_environment, run


def test_the_worker_without_a_schema_says_to_run_db_upgrade_and_exits(tmp_path: Path) -> None:
    env = clean_environment(tmp_path / "data")
    (tmp_path / "data").mkdir()

    done = run("worker", env=env, timeout=30)

    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("atelier: the database has no schema yet")
    assert lines[0].endswith("run `atelier db upgrade`")

