"""django-hordak writer operations (the same shapes as bench/_tb_ops.py), run inside WriterPool processes.

Accounts are named after the Time Bank account codes ("issuance", "pool", "p:<resident id>"); writer ``w``
of ``n`` only touches the resident accounts ``residents[w::n]``. A transfer of minutes from ``debit`` to
``credit`` is hordak's documented ``credit.transfer_to(debit, Money(...))`` (one Transaction, two Legs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


@dataclass
class State:
    residents: list[Any]
    issuance: Any
    pool: Any
    money: Any
    parts: dict[tuple[int, int], list[Any]] = field(default_factory=dict)

    def part(self, w: int, n: int) -> list[Any]:
        if (w, n) not in self.parts:
            self.parts[(w, n)] = self.residents[w::n]
        return self.parts[(w, n)]


def setup(index: int) -> State:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hordak_project.settings")
    import django

    django.setup()
    from djmoney.money import Money
    from hordak.models import Account

    residents = list(Account.objects.filter(name__startswith="p:").order_by("id"))
    return State(residents, Account.objects.get(name="issuance"), Account.objects.get(name="pool"), Money)


def post(state: State, debit: Any, credit: Any, minutes: int) -> None:
    credit.transfer_to(debit, state.money(minutes, "CNY"))


def gov_credit(state: State, w: int, n: int, i: int, p: dict[str, Any]) -> int:
    mine = state.part(w, n)
    post(state, state.issuance, mine[i % len(mine)], 30)
    return 1


def transfer(state: State, w: int, n: int, i: int, p: dict[str, Any]) -> int:
    mine = state.part(w, n)
    post(state, mine[i % len(mine)], mine[(i + 1) % len(mine)], 1)
    return 1


def donate_pool(state: State, w: int, n: int, i: int, p: dict[str, Any]) -> int:
    mine = state.part(w, n)
    post(state, mine[i % len(mine)], state.pool, 1)
    return 1
