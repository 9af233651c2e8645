"""The management commands: export to a file, import it with --dry-run and for real."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from .conftest import counts
from .test_services import _new_person, _volunteers_file


def test_export_command_writes_the_file(tmp_path, world, paid, supervisor):
    paid(rate=5)
    out = tmp_path / "records.csv"
    call_command(
        "export_volunteer_records",
        "--as",
        supervisor.username,
        "--format",
        "csv",
        "--table",
        "services",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
        "--region",
        "442000001",
        "--out",
        str(out),
    )
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(CommandError):
        call_command("export_volunteer_records", "--as", supervisor.username, "--region", "nope", "--out", str(out))


def test_import_command_dry_run_and_commit(tmp_path, world, town_admin, capsys):
    path = tmp_path / "people.csv"
    path.write_bytes(_volunteers_file(_new_person()))
    before = counts()
    call_command("import_records", "--as", town_admin.username, "--kind", "volunteers", "--dry-run", str(path))
    assert counts() == before and "Dry run" in capsys.readouterr().out
    call_command("import_records", "--as", town_admin.username, "--kind", "volunteers", str(path))
    assert counts()["Resident"] == before["Resident"] + 1
    path.write_bytes(_volunteers_file(_new_person(birth_date="1990-02-30")))
    with pytest.raises(CommandError, match="Nothing was written"):
        call_command("import_records", "--as", town_admin.username, "--kind", "volunteers", str(path))
    assert "row 2" in capsys.readouterr().out
