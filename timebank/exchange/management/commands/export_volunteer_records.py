"""Write the volunteer records of a period and region to an xlsx or CSV file (docs/exchange.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from timebank.common.errors import DomainError
from timebank.exchange.selectors import Period
from timebank.exchange.services import export_volunteer_records
from timebank.people.models import User
from timebank.places.models import Region


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text}") from None


class Command(BaseCommand):
    help = "Export volunteer records (volunteers and services tables) for the national volunteer system."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--as", dest="username", required=True, help="staff login name: the export's scope")
        parser.add_argument("--from", dest="date_from", help="first day YYYY-MM-DD (service start), inclusive")
        parser.add_argument("--to", dest="date_to", help="last day YYYY-MM-DD, inclusive")
        parser.add_argument("--region", help="region code (the volunteers' home subtree)")
        parser.add_argument("--format", dest="fmt", choices=["xlsx", "csv"], default="xlsx")
        parser.add_argument("--table", choices=["all", "volunteers", "services"], default="all")
        parser.add_argument("--out", required=True, help="file to write")

    def handle(self, *args: Any, **o: Any) -> None:
        user = User.objects.filter(username=o["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {o['username']}")
        region = None
        if o["region"]:
            region = Region.objects.filter(code=o["region"]).first()
            if region is None:
                raise CommandError(f"unknown region code {o['region']}")
        try:
            out = export_volunteer_records(
                actor=user,
                period=Period(_day(o["date_from"]), _day(o["date_to"])),
                region=region,
                fmt=o["fmt"],
                table=o["table"],
            )
        except DomainError as exc:
            raise CommandError(exc.text) from exc
        Path(o["out"]).write_bytes(out.content)
        self.stdout.write(f"Wrote {o['out']} ({len(out.content)} bytes, {out.content_type}).")
