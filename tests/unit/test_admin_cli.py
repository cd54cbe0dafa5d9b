"""`atelier admin create EMAIL --password-stdin` on the embedded default's SQLite file."""

import io
import sqlite3
from pathlib import Path

import pytest

from entrypoints.cli.main import main


def test_admin_create_stores_an_argon2id_hash_and_audits_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ATELIER_PASSWORD_HASH_MEMORY_KIB", "1024")
    monkeypatch.setenv("ATELIER_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("ATELIER_DATABASE_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-admin-pass\n"))
    data = tmp_path / "data"
    assert main(["admin", "create", "Root@Atelier.test", "--password-stdin",
                 "--data-dir", str(data)]) == 0
    assert "admin root@atelier.test created" in capsys.readouterr().out

    with sqlite3.connect(data / "atelier.db") as db:
        [(email, password_hash)] = db.execute(
            "SELECT email, password_hash FROM admin_accounts").fetchall()
        [(action, actor)] = db.execute("SELECT action, actor FROM audit_log").fetchall()
    assert email == "root@atelier.test"
    assert password_hash.startswith("$argon2id$") and "s3cret" not in password_hash
    assert action == "admin.created" and actor.startswith("cli:")

    monkeypatch.setattr("sys.stdin", io.StringIO("another-password\n"))
    with pytest.raises(SystemExit, match="already exists"):
        main(["admin", "create", "root@atelier.test", "--password-stdin",
              "--data-dir", str(data)])
