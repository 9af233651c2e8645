"""The backup and restore drill (scripts/backup_drill.sh, docs/operators.md) runs and its checks have teeth.

Slow (one to three minutes on the shared two-core machine, most of it building the demo city): marked
``slow`` (a quick run leaves it out with ``-m "not slow"``) and ``postgres``; it needs pg_dump, pg_restore
and psql. It makes two scratch
databases named after this process and drops them at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(settings.BASE_DIR)
SCRIPT = ROOT / "scripts" / "backup_drill.sh"


def _server() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"


#: The drill runs here with the development keys (an operator runs it with production's environment, whose
#: keys pass the start-up checks); the wrong-key cases below change one key only.
DRILL_ENV = {"DEBUG": "1"}


def _manage(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [os.environ.get("PY", str(ROOT / ".venv" / "bin" / "python")), "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **DRILL_ENV, "DATABASE_URL": url, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pg_dump", "pg_restore", "psql")), reason="pg_dump/pg_restore/psql missing"
)
def test_the_drill_restores_a_whole_ledger_and_catches_wrong_keys_and_tampering(tmp_path: Path) -> None:
    server = _server()
    prefix = f"tb_drilltest_{os.getpid()}"
    env = {**os.environ, **DRILL_ENV, "DRILL_SERVER": server, "DRILL_PREFIX": prefix}
    env.pop("DATABASE_URL", None)
    try:
        run = subprocess.run(
            ["bash", str(SCRIPT), "--scale", "tiny", "--keep", "--workdir", str(tmp_path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        out = run.stdout
        assert "ledger_verify on the restored database: OK" in out
        assert "account balances, transfers and the latest seal are identical" in out
        assert "OK: every ID number decrypts and matches its keyed hash." in out
        assert (tmp_path / f"{prefix}_src.dump").stat().st_size > 0
        original = (tmp_path / "fingerprint_src.txt").read_text()
        assert original == (tmp_path / "fingerprint_dst.txt").read_text()
        assert "rows ledger_transfer 0" not in original and "rows people_resident 0" not in original

        restored = f"{server}/{prefix}_dst"
        # A copy restored without the right keys is useless: the ID numbers cannot be read.
        wrong = _manage(restored, "id_keys_check", FIELD_SALT_KEY="not-the-production-salt")
        assert wrong.returncode == 1 and "FAILED" in wrong.stdout
        wrong_hash = _manage(restored, "id_keys_check", ID_HASH_KEY="not-the-production-hash-key")
        assert wrong_hash.returncode == 1

        # ledger_verify would notice a restored copy that differs from what was sealed.
        subprocess.run(
            [
                "psql",
                "-q",
                restored,
                "-c",
                "ALTER TABLE ledger_transfer DISABLE TRIGGER USER; "
                "UPDATE ledger_transfer SET amount = amount + 1 WHERE id = (SELECT min(id) FROM ledger_transfer);",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        tampered = _manage(restored, "ledger_verify")
        assert tampered.returncode == 1 and "FAILED" in tampered.stdout
    finally:
        subprocess.run(
            [
                "psql",
                "-q",
                f"{server}/postgres",
                "-c",
                f"DROP DATABASE IF EXISTS {prefix}_src",
                "-c",
                f"DROP DATABASE IF EXISTS {prefix}_dst",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
