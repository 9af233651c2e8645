"""``manage.py id_keys_check``: can this installation read the ID numbers in its database?

Every ID number is stored encrypted (key derived from SECRET_KEY and FIELD_SALT_KEY) and found by an HMAC
under ID_HASH_KEY. After a restore, or after a change of keys, this decrypts every ID number and recomputes
its keyed hash: a database restored without the keys it was written with fails here (the library returns the
ciphertext unchanged when it cannot decrypt, so the hash does not match). Pseudonymised people (who left, see
docs/privacy.md) hold no ID number and are skipped. Exits 1 and names the first failures when any fail.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from timebank.people import idnumber
from timebank.people.models import Resident
from timebank.people.privacy import PSEUDONYM_HASH_PREFIX


class Command(BaseCommand):
    help = "Decrypt every ID number and check its keyed hash (run after a restore: are the keys right?)."

    def handle(self, *args: Any, **options: Any) -> None:
        checked = skipped = 0
        failed: list[int] = []
        rows = Resident.objects.order_by("pk").values_list("pk", "id_number", "id_hash")
        for pk, number, id_hash in rows.iterator(chunk_size=2000):
            if id_hash.startswith(PSEUDONYM_HASH_PREFIX):
                skipped += 1
                continue
            checked += 1
            text = str(number or "")
            if len(text) != 18 or idnumber.keyed_hash(text) != id_hash:
                failed.append(pk)
        out = self.stdout.write
        out(f"ID numbers checked: {checked} (pseudonymised, skipped: {skipped})")
        if not failed:
            out(self.style.SUCCESS("OK: every ID number decrypts and matches its keyed hash."))
            return
        out(
            self.style.ERROR(
                f"FAILED: {len(failed)} ID number(s) cannot be read with these keys "
                f"(FIELD_SALT_KEY, SECRET_KEY, ID_HASH_KEY); first residents: {failed[:10]}"
            )
        )
        sys.exit(1)
