"""Reads of the ledger: balances and statements people can read (hours, who, what, where)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from timebank.people.models import Resident

from .models import Account, Seal, Transfer

Phase = Transfer.Phase
POSTED_PHASES = (Phase.POSTED, Phase.POST)


@dataclass(frozen=True)
class Balance:
    """Minutes: ``posted`` is what the account holds; ``held_out`` is reserved for others; ``held_in`` is
    reserved for it; ``available`` = posted − held_out."""

    posted: int
    held_in: int
    held_out: int

    @property
    def available(self) -> int:
        return self.posted - self.held_out


def _derived(account: Account) -> Balance:
    """Balance of a derived account: the snapshot in the latest seal that has one, plus the posted transfers
    after it (one indexed aggregate per side); without a snapshot, summed over all its transfers.
    Open holds are always summed (they are few, and a hold's resolution comes later than its seal)."""
    debits = Transfer.objects.filter(debit_account=account)
    credits = Transfer.objects.filter(credit_account=account)
    d_posted = c_posted = 0
    seal = Seal.objects.filter(derived__isnull=False).order_by("-last_id").only("last_id", "derived").first()
    snapshot = seal.derived.get(str(account.pk)) if seal is not None and seal.derived else None
    if seal is not None and snapshot is not None:
        d_posted, c_posted = int(snapshot[0]), int(snapshot[1])
        posted_d = debits.filter(id__gt=seal.last_id, phase__in=POSTED_PHASES)
        posted_c = credits.filter(id__gt=seal.last_id, phase__in=POSTED_PHASES)
    else:
        posted_d = debits.filter(phase__in=POSTED_PHASES)
        posted_c = credits.filter(phase__in=POSTED_PHASES)
    d_posted += posted_d.aggregate(s=Sum("amount"))["s"] or 0
    c_posted += posted_c.aggregate(s=Sum("amount"))["s"] or 0
    d_held = _open_holds(debits)
    c_held = _open_holds(credits)
    return Balance(c_posted - d_posted, c_held, d_held)


def _open_holds(qs: QuerySet[Transfer]) -> int:
    return qs.filter(phase=Phase.PENDING, resolution__isnull=True).aggregate(s=Sum("amount"))["s"] or 0


def balance(account: Account, *, just_read: bool = False) -> Balance:
    """The account's balance now. ``just_read``: the caller has just read the row; don't read it again."""
    if not account.cached:
        return _derived(account)
    fresh = account if just_read else Account.objects.get(pk=account.pk)
    return Balance(fresh.posted_balance, fresh.credits_pending, fresh.debits_pending)


def resident_balance(resident: Resident) -> Balance:
    """Minutes a resident holds in the personal account (0 before the first transfer).

    One narrow statement (the four counters of one row, by the (resident, kind) unique index)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT credits_posted - debits_posted, credits_pending, debits_pending FROM ledger_account "
            "WHERE resident_id = %s AND kind = %s",
            [resident.pk, Account.Kind.PERSONAL.value],
        )
        row = cur.fetchone()
    return Balance(*row) if row else Balance(0, 0, 0)


def group_balance(resident: Resident) -> Balance:
    account = Account.objects.filter(resident=resident, kind=Account.Kind.GROUP_EARNED).first()
    return balance(account) if account else Balance(0, 0, 0)


def outstanding_hours() -> int:
    """Minutes the city owes: everything ever issued, net (minus the issuance account's balance)."""
    issuance = Account.objects.get(code="issuance")
    return -balance(issuance).posted


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Line:
    """One line of a statement, in the words of the account holder."""

    transfer_id: int
    when: dt.datetime
    what: str
    who: str
    where: str
    minutes: int  # signed: + received, − paid out
    balance: int  # minutes after this line

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)

    @property
    def balance_hours(self) -> Decimal:
        return hours(self.balance)


@dataclass(frozen=True)
class Statement:
    account: Account
    opening: int
    closing: int
    lines: list[Line]
    held: int
    period: str


def _counterparty(account: Account) -> str:
    if account.resident is not None:
        return account.resident.name
    return {
        Account.Kind.POOL: _("the public time pool"),
        Account.Kind.ISSUANCE: _("the city (new hours)"),
        Account.Kind.GUARANTEE: _("the government guarantee"),
    }.get(Account.Kind(account.kind), account.name)


# lazy: the labels are translated when a statement is read, in the reader's language, not at import
_WHAT = {
    Transfer.Kind.SERVICE_CREDIT: (gettext_lazy("Service given"), gettext_lazy("Service paid")),
    Transfer.Kind.REDEMPTION: (
        gettext_lazy("Service given (paid with the elder's hours)"),
        gettext_lazy("Service received"),
    ),
    Transfer.Kind.FAMILY_TRANSFER: (gettext_lazy("Hours from family"), gettext_lazy("Hours to family")),
    Transfer.Kind.DONATION: (gettext_lazy("Donation received"), gettext_lazy("Donation")),
    Transfer.Kind.POOL_GRANT: (gettext_lazy("Grant from the public pool"), gettext_lazy("Grant paid")),
    Transfer.Kind.CAP_OVERFLOW: (gettext_lazy("Hours above the cap"), gettext_lazy("Hours above the cap, to the pool")),
    Transfer.Kind.REVERSAL: (gettext_lazy("Correction"), gettext_lazy("Correction")),
    Transfer.Kind.ADJUSTMENT: (gettext_lazy("Adjustment"), gettext_lazy("Adjustment")),
    Transfer.Kind.GUARANTEE: (
        gettext_lazy("Service bought by the government"),
        gettext_lazy("Service bought by the government"),
    ),
    Transfer.Kind.GROUP_CREDIT: (gettext_lazy("Group activity"), gettext_lazy("Group activity")),
}


def _line(account: Account, t: Transfer, running: int) -> tuple[Line, int]:
    incoming = t.credit_account_id == account.pk
    other = t.debit_account if incoming else t.credit_account
    label_in, label_out = _WHAT.get(Transfer.Kind(t.kind), (t.kind, t.kind))
    what = str(label_in if incoming else label_out)
    if t.memo:
        what = f"{what} · {t.memo}"
    who = _counterparty(other)
    if incoming and t.kind == Transfer.Kind.SERVICE_CREDIT and t.beneficiary is not None:
        who = t.beneficiary.name  # the elder served, not the account that paid
    signed = t.amount if incoming else -t.amount
    return (
        Line(
            transfer_id=t.pk,
            when=t.created_at,
            what=what,
            who=who,
            where=t.place.name if t.place_id and t.place else "",
            minutes=signed,
            balance=running,
        ),
        signed,
    )


def statement_recent(account: Account, *, limit: int = 100) -> Statement:
    """The last ``limit`` entries with the balance after each, newest first.

    Cost does not grow with the account's history: the current balance is cached on the account row,
    and the running balance is walked backwards from it over the ``limit`` newest entries (two index
    range scans on (account, id)).
    """
    bal = balance(account)
    debit_side = Transfer.objects.filter(debit_account=account, phase__in=POSTED_PHASES).order_by("-id")[:limit]
    credit_side = Transfer.objects.filter(credit_account=account, phase__in=POSTED_PHASES).order_by("-id")[:limit]
    ids = sorted(set(debit_side.values_list("id", flat=True)) | set(credit_side.values_list("id", flat=True)))
    ids = ids[::-1][:limit]
    rows: QuerySet[Transfer] = (
        Transfer.objects.filter(id__in=ids)
        .select_related("debit_account__resident", "credit_account__resident", "place", "beneficiary")
        .order_by("-id")
    )
    running = bal.posted
    lines = []
    for t in rows:
        line, signed = _line(account, t, running)
        lines.append(line)
        running -= signed
    return Statement(account, running, bal.posted, lines, bal.held_out, _("latest %(n)s entries") % {"n": limit})


def statement_month(account: Account, *, year: int, month: int) -> Statement:
    """All entries of one calendar month (local time), oldest first, with opening and closing balance."""
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    before = Transfer.objects.filter(phase__in=POSTED_PHASES, created_at__lt=start)
    opening = (before.filter(credit_account=account).aggregate(s=Sum("amount"))["s"] or 0) - (
        before.filter(debit_account=account).aggregate(s=Sum("amount"))["s"] or 0
    )
    rows = (
        Transfer.objects.filter(
            Q(debit_account=account) | Q(credit_account=account),
            phase__in=POSTED_PHASES,
            created_at__gte=start,
            created_at__lt=end,
        )
        .select_related("debit_account__resident", "credit_account__resident", "place", "beneficiary")
        .order_by("id")
    )
    lines = []
    running = opening
    for t in rows:
        incoming = t.credit_account_id == account.pk
        running += t.amount if incoming else -t.amount
        line, _signed = _line(account, t, running)
        lines.append(line)
    held = _open_holds(Transfer.objects.filter(debit_account=account))
    return Statement(account, opening, running, lines, held, f"{year}-{month:02d}")


def open_holds(account: Account) -> list[Transfer]:
    """Holds on the account not yet settled (e.g. hours of a disputed visit)."""
    return list(
        Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account), phase=Phase.PENDING)
        .filter(resolution__isnull=True)
        .order_by("id")
    )
