"""Import volunteers or past service records from an xlsx or CSV file; --dry-run checks and reports only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from timebank.common.errors import DomainError
from timebank.exchange.services import import_service_records, import_volunteers
from timebank.people.models import User


class Command(BaseCommand):
    help = "Import volunteers or past service records (docs/exchange.md). All or nothing; re-imports change nothing."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--as", dest="username", required=True, help="staff login name: the import's scope")
        parser.add_argument("--kind", choices=["volunteers", "services"], required=True)
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("file")

    def handle(self, *args: Any, **o: Any) -> None:
        user = User.objects.filter(username=o["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {o['username']}")
        path = Path(o["file"])
        if not path.is_file():
            raise CommandError(f"no such file {path}")
        do = import_volunteers if o["kind"] == "volunteers" else import_service_records
        try:
            report = do(actor=user, file=path.read_bytes(), dry_run=o["dry_run"], filename=path.name)
        except DomainError as exc:
            raise CommandError(exc.text) from exc
        for err in report.errors:
            self.stdout.write(f"row {err.row}\t{err.column}\t{err.reason}")
        summary = (
            f"{report.rows} rows: {report.created} new, {report.linked} linked, {report.unchanged} unchanged, "
            f"{len(report.errors)} problems."
        )
        if report.errors:
            raise CommandError(f"{summary} Nothing was written.")
        verb = "Committed" if report.committed else ("Dry run, nothing written" if report.dry_run else "Nothing to do")
        self.stdout.write(f"{verb}. {summary}")
