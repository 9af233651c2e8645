from typing import Any

from django.core.management.base import BaseCommand

from timebank.ledger.sealing import seal_transfers


class Command(BaseCommand):
    help = "Seal the committed, unsealed transfers into the hash chain."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--size", type=int, default=20_000, help="transfers per seal")

    def handle(self, *args: Any, size: int, **options: Any) -> None:
        seals = seal_transfers(size=size)
        if not seals:
            self.stdout.write("Nothing to seal: every committed transfer is already sealed.")
            return
        count = sum(s.count for s in seals)
        self.stdout.write(
            f"Sealed {count} transfers in {len(seals)} seal(s): #{seals[0].first_id}–#{seals[-1].last_id}. "
            f"Latest hash: {seals[-1].hash}"
        )
