import json
from typing import Any

from django.core.management.base import BaseCommand

from timebank.ledger.sealing import published_seals


class Command(BaseCommand):
    help = "Print the latest seal hash, to publish outside the database (also at /ledger/seal/)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON (last transfer id, hash, time)")

    def handle(self, *args: Any, **options: Any) -> None:
        seals = published_seals(limit=1)
        if not seals:
            self.stdout.write("The ledger has not been sealed yet.")
            return
        seal = seals[0]
        if options["json"]:
            body = {"last_transfer": seal.last_id, "hash": seal.hash, "sealed_at": seal.created_at.isoformat()}
            self.stdout.write(json.dumps(body))
            return
        self.stdout.write(f"Latest seal: transfers up to #{seal.last_id}, sealed at {seal.created_at.isoformat()}")
        self.stdout.write(seal.hash)
