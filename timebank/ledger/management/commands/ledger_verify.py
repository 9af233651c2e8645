import sys
from typing import Any

from django.core.management.base import BaseCommand

from timebank.ledger.sealing import verify_ledger


class Command(BaseCommand):
    help = "Recompute every balance from the transfers, check the total is zero and every seal matches."

    def handle(self, *args: Any, **options: Any) -> None:
        r = verify_ledger()
        out = self.stdout.write
        out("Time Bank ledger verification")
        out(f"  accounts checked:      {r.accounts}")
        out(f"  transfers checked:     {r.transfers}")
        out(f"  marks checked:         {r.marks}")
        out(f"  seals checked:         {r.seals} (transfers not yet sealed: {r.unsealed})")
        out(f"  sum over all accounts: {r.total_minutes} minutes (must be 0)")
        out(f"  hours owed to people:  {r.outstanding_minutes / 60:.1f} h")
        out(f"  latest seal hash:      {r.last_seal_hash}")
        if r.ok:
            out(
                self.style.SUCCESS(
                    "OK: every balance matches its transfers, the total is zero, every mark and every seal holds."
                )
            )
            return
        out(self.style.ERROR(f"FAILED: {len(r.problems)} problem(s)"))
        for p in r.problems:
            out(f"  [{p.kind}] {p.text}")
        sys.exit(1)
