"""Accounts: the system accounts, residents' accounts opened on first use, team and clearing accounts, status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from timebank.common.errors import NotAllowed
from timebank.people.models import Resident
from timebank.people.selectors import is_city_supervisor

from ..errors import (
    AccountNotEmpty,
    BadAccountStatus,
    BadPayer,
    ReasonRequired,
)
from ..models import Account, AccountStatusChange

if TYPE_CHECKING:
    from timebank.people.models import User

# --------------------------------------------------------------------------------------------- accounts


def system_account(code: str) -> Account:
    """The issuance, guarantee or pool account (opened by migration ledger/0002)."""
    return Account.objects.get(code=code)


def account_for(resident: Resident, *, kind: str = Account.Kind.PERSONAL) -> Account:
    """The resident's personal (or group-earned) account, opened on first use."""
    code = f"{'p' if kind == Account.Kind.PERSONAL else 'g'}:{resident.pk}"
    account = Account.objects.filter(code=code).first()
    if account is not None:
        return account
    # Stored data, so not translated at creation time: the account kind is shown translated next to it.
    label = "时间账户" if kind == Account.Kind.PERSONAL else "团体服务时间"
    try:
        with transaction.atomic():
            return Account.objects.create(code=code, kind=kind, resident=resident, name=f"{resident.name} · {label}")
    except IntegrityError:
        return Account.objects.get(code=code)


def accounts_for(*wanted: tuple[Resident, str]) -> list[Account]:
    """Several residents' accounts, opened on first use in a fixed order (resident, kind).

    The services open accounts inside their transaction (so a refused request leaves none behind); in a fixed
    order, two requests that open the same new accounts cannot wait on each other's uncommitted rows in a cycle.
    """
    opened = {(r.pk, k): account_for(r, kind=k) for r, k in sorted(wanted, key=lambda w: (w[0].pk, w[1]))}
    return [opened[(r.pk, k)] for r, k in wanted]


def account_open(*, code: str, kind: str, name: str, no_overdraw: bool = True) -> Account:
    """Open a team or clearing account (for partner time banks, ``no_overdraw=False``)."""
    if kind not in (Account.Kind.TEAM, Account.Kind.CLEARING):
        raise BadPayer(payer=kind)
    account, _created = Account.objects.get_or_create(
        code=code, defaults={"kind": kind, "name": name, "no_overdraw": no_overdraw}
    )
    return account


def account_set_status(*, actor: User, account: Account, status: str, reason: str) -> Account:
    """Freeze, reopen or close an account (city supervisors). Closing needs an empty account."""
    if not is_city_supervisor(actor):
        raise NotAllowed()
    if not reason.strip():
        raise ReasonRequired(field="reason")
    if status not in Account.Status.values:
        raise BadAccountStatus(field="status", value=status)
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        if status == Account.Status.CLOSED and (
            locked.posted_balance or locked.debits_pending or locked.credits_pending or not locked.cached
        ):
            raise AccountNotEmpty()
        AccountStatusChange.objects.create(
            account=locked, from_status=locked.status, to_status=status, reason=reason.strip(), actor=actor
        )
        locked.status = status
        locked.save(update_fields=["status"])
    return locked
