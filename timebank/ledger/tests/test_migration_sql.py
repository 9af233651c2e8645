"""The ledger's SQL is frozen into its migrations: what an old migration installs can never change.

Each ledger migration that installs SQL carries its own complete copy (``LEDGER_SQL = {vendor: text}``); no
migration reads a file at migrate time. A SHA-256 of every copy is pinned here: editing an old migration's
SQL fails this test. ``ledger/sql/<vendor>.sql`` stays as the readable current version and must equal the
copy in the latest migration that installs SQL on that vendor: to change the ledger's SQL, edit the ``.sql``
file, write a new migration carrying the new text (docs/ledger.md "The ledger's SQL"), pin its hash below.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

import timebank.ledger.migrations as migrations_package

MIGRATIONS_DIR = Path(migrations_package.__file__).resolve().parent
SQL_DIR = MIGRATIONS_DIR.parent / "sql"
VENDORS = ("postgresql", "sqlite")

# (migration, vendor) -> SHA-256 of the SQL it installs. Add a line for a new migration; never change one.
PINNED = {
    ("0002_triggers_and_system_accounts", "postgresql"): (
        "c7df17469774889a1b23d056e4057bfc23636701f84289c395c16a5b48aa40cf"
    ),
    ("0002_triggers_and_system_accounts", "sqlite"): "1acc5ca3891d55e63006b8b0484a05ec90d0869547fbc6d0a191d5d4aebeeffc",
    ("0009_transfer_mark", "sqlite"): "1acc5ca3891d55e63006b8b0484a05ec90d0869547fbc6d0a191d5d4aebeeffc",
    ("0011_trigger_constraint_names", "postgresql"): (
        "f8221ca5ca45456cbb58f9a8dec821e70f0b369ba6003a1198391db08f2321a9"
    ),
    ("0012_batch_balances_per_statement", "postgresql"): (
        "a4707aeb74db50877fb1d155cd72bc85bad2bcad26d802e0a418926c8a29112b"
    ),
}


def _migrations() -> list[tuple[str, ModuleType]]:
    names = sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.py"))
    return [(name, importlib.import_module(f"timebank.ledger.migrations.{name}")) for name in names]


def _sql_migrations() -> list[tuple[str, dict[str, str]]]:
    return [(name, module.LEDGER_SQL) for name, module in _migrations() if hasattr(module, "LEDGER_SQL")]


def _change_migrations() -> list[tuple[str, dict[str, str]]]:
    """Migrations that change part of the installed SQL (``LEDGER_SQL_CHANGES``: a function replaced, a
    trigger added), frozen and pinned like the full copies."""
    return [
        (name, module.LEDGER_SQL_CHANGES) for name, module in _migrations() if hasattr(module, "LEDGER_SQL_CHANGES")
    ]


def _current(vendor: str) -> str:
    """The SQL in force on ``vendor``: the latest full copy, then every later change in order."""
    name, text = _latest(vendor)
    for later, changes in _change_migrations():
        if later > name and vendor in changes:
            text += "-- statement\n" + changes[vendor].strip("\n") + "\n"
    return text


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_every_migrations_sql_is_pinned_and_unchanged():
    found = {
        (name, vendor): _sha(text)
        for name, sql in [*_sql_migrations(), *_change_migrations()]
        for vendor, text in sql.items()
    }
    assert found, "no ledger migration carries LEDGER_SQL"
    unpinned = sorted(set(found) - set(PINNED))
    assert not unpinned, f"pin the SQL of the new migration(s) in PINNED: { {k: found[k] for k in unpinned} }"
    missing = sorted(set(PINNED) - set(found))
    assert not missing, f"a migration that installed SQL lost its copy: {missing}"
    changed = {k: found[k] for k in PINNED if found[k] != PINNED[k]}
    assert not changed, (
        f"the SQL an old migration installs has changed: {sorted(changed)}. Put it back, and make the change "
        "in a new migration instead."
    )


def _latest(vendor: str) -> tuple[str, str]:
    """The latest migration that installs SQL on ``vendor``, and that SQL."""
    return [(name, sql[vendor]) for name, sql in _sql_migrations() if vendor in sql][-1]


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_sql_files_are_the_latest_migrations_sql(vendor):
    name, _sql = _latest(vendor)
    current = (SQL_DIR / f"{vendor}.sql").read_text(encoding="utf-8")
    assert current == _current(vendor), (
        f"ledger/sql/{vendor}.sql differs from what the latest SQL migration ({name}) installs: a changed .sql "
        "file needs a new migration carrying the new text (docs/ledger.md)"
    )


def test_no_ledger_migration_reads_a_file_at_migrate_time():
    reading = re.compile(r"read_text\(|read_bytes\(|\bopen\(|\.open\(|SQL_DIR|\.sql\b['\"]")
    offenders = [name for name, module in _migrations() if reading.search(inspect.getsource(module))]
    assert not offenders, f"these migrations read files when they run; freeze the content into them: {offenders}"


def test_the_installed_triggers_are_the_ones_the_sql_names(db):
    """What the test database got by migrating is what the frozen SQL declares (names of the triggers).

    On SQLite this also catches a migration that rebuilt a ledger table (Django does, to add a NOT NULL
    column or a CHECK constraint) and so silently dropped its triggers."""
    from django.db import connection

    sql = _current(connection.vendor)
    declared = set(re.findall(r"CREATE TRIGGER (\w+)", sql))
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'ledger_%%'"
            )
        else:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'ledger_%'")
        installed = {row[0] for row in cur.fetchall()}
    assert installed == declared
