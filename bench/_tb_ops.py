"""Time Bank writer operations for the ledger benchmark, run inside WriterPool processes.

Every operation goes through the ledger's service layer (``timebank.ledger.services``) exactly as the web
and API layers call it. Writer ``w`` of ``n`` only touches the residents ``residents[w::n]``, so two writers
never share a personal account: any queueing between writers comes from shared rows (the pool, ...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


@dataclass
class State:
    residents: list[Any]
    accounts: list[Any]
    issuance: Any
    parts: dict[tuple[int, int], tuple[list[Any], list[Any]]] = field(default_factory=dict)

    def part(self, w: int, n: int) -> tuple[list[Any], list[Any]]:
        key = (w, n)
        if key not in self.parts:
            self.parts[key] = (self.residents[w::n], self.accounts[w::n])
        return self.parts[key]


def setup(index: int) -> State:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")
    import django

    django.setup()
    from timebank.ledger.models import Account
    from timebank.people.models import Resident

    prefix = os.environ["BENCH_RESIDENT_PREFIX"]
    residents = list(Resident.objects.filter(name__startswith=prefix).order_by("pk"))
    by_resident = {a.resident_id: a for a in Account.objects.filter(kind=Account.Kind.PERSONAL)}
    accounts = [by_resident[r.pk] for r in residents]
    # As a worker that has served a while: the ledger's per-process caches (account ids, system accounts,
    # policies) are filled, here in one query, instead of on each resident's first posting in the timed run.
    from timebank.ledger.services import core

    core.resident_accounts(*[(r, Account.Kind.PERSONAL) for r in residents])
    core.system_account_cached("pool")
    core.policies()
    return State(residents, accounts, Account.objects.get(code="issuance"))


def gov_credit(state: State, w: int, n: int, i: int, p: dict[str, Any]) -> int:
    """A confirmed visit paid by the government: new hours from the issuance account to a volunteer."""
    from timebank.ledger.services import service_credit

    residents, _ = state.part(w, n)
    service_credit(
        key=f"{p['tag']}-{w}-{i}", volunteer=residents[i % len(residents)], payer="government", elder=None, minutes=30
    )
    return 1


def transfer(state: State, w: int, n: int, i: int, p: dict[str, Any]) -> int:
    """A plain transfer between two residents of this writer's share (no shared row between writers)."""
    from timebank.ledger.services import transfer_post

    _, accounts = state.part(w, n)
    k = len(accounts)
    transfer_post(
        key=f"{p['tag']}-{w}-{i}",
        debit=accounts[i % k],
        credit=accounts[(i + 1) % k],
        minutes=1,
        kind="family_transfer",
    )
    return 1


def donate_pool(state: State, w: int, n: int, i: int, p: dict[str, Any]) -> int:
    """A donation to the public pool: every writer touches the one cached pool row."""
    from timebank.ledger.services import donate

    residents, _ = state.part(w, n)
    donate(key=f"{p['tag']}-{w}-{i}", donor=residents[i % len(residents)], minutes=1)
    return 1


def batch(state: State, w: int, n: int, i: int, p: dict[str, Any]) -> int:
    """One ``batch_post`` of ``p['entries']`` transfers from the issuance account to this writer's residents."""
    from timebank.ledger.services import BatchEntry, batch_post

    _, accounts = state.part(w, n)
    size = int(p["entries"])
    entries = [
        BatchEntry(str(j), state.issuance, accounts[j % len(accounts)], int(p.get("minutes", 10)), "service_credit")
        for j in range(size)
    ]
    batch_post(key=f"{p['tag']}-{w}-{i}", entries=entries)
    return size
