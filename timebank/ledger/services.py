"""Every write to the ledger. Nothing else inserts transfers.

Each public function:
* checks its input and the policies before anything is written, and raises a :mod:`.errors` error;
* takes a client-chosen ``key``: the same call again returns the first result; the same key with a
  different request raises :class:`IdempotencyConflict`;
* locks the cached accounts it touches in primary-key order (``SELECT … FOR UPDATE``), re-checks the
  balances on the locked rows and inserts the transfers in one transaction. The database trigger
  updates the cached balances and the CHECK constraints are the last line of defence.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.certificates import events as webhook_events
from timebank.common.errors import DomainError, NotAllowed
from timebank.common.selectors import policy_value
from timebank.notify.services import notification_send
from timebank.people.models import Resident
from timebank.people.selectors import eligibility, is_city_supervisor, is_relative, is_staff_member
from timebank.places.models import Region

from .errors import (
    AccountNotEmpty,
    AccountNotOpen,
    AlreadyReversed,
    BadAccountStatus,
    BadAmount,
    BadCoefficient,
    BadKey,
    BadPayer,
    DuplicateInBatch,
    EmptyBatch,
    GrantDecided,
    GrantSameApprover,
    GroupHoursDonationOnly,
    IdempotencyConflict,
    InsufficientBalance,
    NotARelative,
    NotPending,
    NotPriority,
    NotReversible,
    PendingResolved,
    PostExceedsHold,
    ReasonRequired,
    RedeemNotAllowed,
    SameAccount,
)
from .models import Account, AccountStatusChange, Batch, PoolGrant, Transfer

if TYPE_CHECKING:
    from timebank.people.models import User

T = TypeVar("T")
Kind = Transfer.Kind
Phase = Transfer.Phase

_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,80}$")
MAX_ATTEMPTS = 4


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


# --------------------------------------------------------------------------------------------- core


@dataclass(frozen=True)
class Spec:
    """One transfer to insert."""

    key: str
    debit: Account
    credit: Account
    amount: int
    kind: str
    phase: str = Phase.POSTED
    pending: Transfer | None = None
    reverses: Transfer | None = None
    memo: str = ""
    place: Region | None = None
    ref: str = ""
    beneficiary: Resident | None = None

    def row(self, *, digest: str, actor: User | None, batch: Batch | None = None) -> Transfer:
        """The unsaved transfer row this spec describes."""
        return Transfer(
            key=self.key,
            request_hash=digest,
            debit_account=self.debit,
            credit_account=self.credit,
            amount=self.amount,
            kind=self.kind,
            phase=self.phase,
            pending=self.pending,
            reverses=self.reverses,
            batch=batch,
            memo=self.memo[:200],
            beneficiary=self.beneficiary,
            place=self.place,
            ref=self.ref[:64],
            actor=actor if actor is not None and actor.pk else None,
        )


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise BadKey(field="key")
    return key


def _check_minutes(amount: Any) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise BadAmount(field="minutes")
    return amount


def request_hash(**request: Any) -> str:
    """A stable digest of what a caller asked for under a key (model instances by primary key)."""

    def plain(value: Any) -> Any:
        if hasattr(value, "pk"):
            return f"{type(value).__name__}:{value.pk}"
        if isinstance(value, Decimal | dt.date):
            return str(value)
        return value

    body = json.dumps({k: plain(v) for k, v in sorted(request.items())}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _lock(accounts: Iterable[Account]) -> dict[int, Account]:
    """Lock the cached accounts in primary-key order and return fresh copies of all of them.

    Derived accounts (issuance, guarantee) are never locked: they have no balance on the row to protect.
    """
    wanted = {a.pk: a for a in accounts}
    cached_ids = sorted(pk for pk, a in wanted.items() if a.cached)
    fresh = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=cached_ids).order_by("pk")}
    for pk, account in wanted.items():
        fresh.setdefault(pk, account)
    return fresh


class _Book:
    """The locked accounts of one transaction, with the effect of the transfers inserted so far."""

    def __init__(self, accounts: Iterable[Account]):
        self.accounts = _lock(accounts)

    def get(self, account: Account) -> Account:
        return self.accounts[account.pk]

    def check(self, spec: Spec) -> None:
        debit, credit = self.get(spec.debit), self.get(spec.credit)
        if debit.pk == credit.pk:
            raise SameAccount()
        for account in (debit, credit):
            if account.status != Account.Status.OPEN:
                raise AccountNotOpen(name=account.name, status=account.get_status_display())
        if spec.phase in (Phase.POSTED, Phase.PENDING) and debit.no_overdraw and debit.available_balance < spec.amount:
            raise InsufficientBalance(available=_hours(debit.available_balance), needed=_hours(spec.amount))

    def apply(self, spec: Spec) -> None:
        """Mirror what the insert trigger does to the cached balances."""
        debit, credit = self.get(spec.debit), self.get(spec.credit)
        if spec.phase == Phase.POSTED:
            debit.debits_posted += spec.amount
            credit.credits_posted += spec.amount
        elif spec.phase == Phase.PENDING:
            debit.debits_pending += spec.amount
            credit.credits_pending += spec.amount
        else:
            assert spec.pending is not None
            debit.debits_pending -= spec.pending.amount
            credit.credits_pending -= spec.pending.amount
            if spec.phase == Phase.POST:
                debit.debits_posted += spec.amount
                credit.credits_posted += spec.amount

    def insert(self, spec: Spec, *, digest: str, actor: User | None, batch: Batch | None = None) -> Transfer:
        self.check(spec)
        transfer = spec.row(digest=digest, actor=actor, batch=batch)
        transfer.save(force_insert=True)
        webhook_events.transfer_posted(transfer)  # sent to partner systems on commit
        self.apply(spec)
        return transfer


def _is_retryable(exc: OperationalError) -> bool:
    code = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(exc)


def _idempotent(key: str, digest: str, attempt: Callable[[], T], replay: Callable[[Transfer], T]) -> T:
    """Run ``attempt`` once per key: a replay of the same request returns ``replay(first transfer)``."""
    existing = Transfer.objects.filter(key=key).first()
    if existing is not None:
        if existing.request_hash != digest:
            raise IdempotencyConflict(field="key")
        return replay(existing)
    for round_ in range(MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                return attempt()
        except IntegrityError as exc:
            existing = Transfer.objects.filter(key=key).first()
            if existing is not None:  # a concurrent call with the same key won the race
                if existing.request_hash != digest:
                    raise IdempotencyConflict(field="key") from exc
                return replay(existing)
            raise _integrity_to_domain(exc) from exc
        except OperationalError as exc:
            if not _is_retryable(exc) or round_ == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _integrity_to_domain(exc: IntegrityError) -> DomainError:
    """Map a refusal by the database to the user's error. Reached only under races the locks forbid."""
    text = str(exc)
    if "pending_id" in text or "resolution" in text:
        return PendingResolved()
    if "reverses_id" in text or "reversal" in text:
        return AlreadyReversed()
    if "no_overdraw" in text:
        return InsufficientBalance(_("Not enough hours in the account for this transfer."))
    return IdempotencyConflict()


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".rstrip("0").rstrip(".") + _(" h")


def transfer_post(
    *,
    key: str,
    debit: Account,
    credit: Account,
    minutes: int,
    kind: str,
    actor: User | None = None,
    memo: str = "",
    place: Region | None = None,
    ref: str = "",
    hold: bool = False,
) -> Transfer:
    """The plain transfer: ``minutes`` from ``debit`` to ``credit`` (``hold=True``: reserve only).

    Policy checks (who may send to whom) belong to the specific services below; this is their common core.
    """
    _check_key(key)
    _check_minutes(minutes)
    if debit.pk == credit.pk:
        raise SameAccount()
    if kind not in Kind.values:
        raise BadPayer(payer=kind)
    group_hours_spend_check(debit, kind)
    spec = Spec(
        key, debit, credit, minutes, kind, Phase.PENDING if hold else Phase.POSTED, memo=memo, place=place, ref=ref
    )
    digest = request_hash(op="transfer", debit=debit, credit=credit, minutes=minutes, kind=kind, hold=hold)

    def attempt() -> Transfer:
        return _Book([debit, credit]).insert(spec, digest=digest, actor=actor)

    return _idempotent(key, digest, attempt, lambda t: t)


# --------------------------------------------------------------------------------------------- rounding


def credited_minutes(actual_minutes: int, coefficient: Decimal | str | int = 1, *, on: dt.date | None = None) -> int:
    """Actual minutes × coefficient, rounded to the policy step ("nearest" rounds halves up)."""
    _check_minutes(actual_minutes)
    try:
        coef = Decimal(str(coefficient))
    except InvalidOperation:
        raise BadCoefficient(field="coefficient") from None
    if not coef.is_finite() or not Decimal("0.1") <= coef <= Decimal("10"):
        raise BadCoefficient(field="coefficient")
    step = int(policy_value("ledger.rounding_step_minutes", on=on))
    mode = policy_value("ledger.rounding_mode", on=on)
    raw = Decimal(actual_minutes) * coef / step
    rounding = {"nearest": ROUND_HALF_UP, "down": "ROUND_FLOOR", "up": "ROUND_CEILING"}[mode]
    return int(raw.quantize(Decimal(1), rounding=rounding)) * step


# --------------------------------------------------------------------------------------------- service credit


@dataclass
class Credit:
    """The result of a service credit: the transfer to the volunteer and, above the cap, to the pool."""

    transfer: Transfer | None
    overflow: Transfer | None
    minutes: int
    payer: str
    extra: list[Transfer] = field(default_factory=list)

    @property
    def to_volunteer(self) -> int:
        return self.transfer.amount if self.transfer else 0


PAYERS = ("own", "pool", "government")


def _payer_account(
    payer: str, elder: Resident | None, *, on: dt.date | None, systems: dict[str, Account]
) -> tuple[Account, str]:
    if payer == "government":
        return systems["issuance"], Kind.SERVICE_CREDIT
    if elder is None:
        raise BadPayer(field="payer", payer=payer)
    elig = eligibility(elder, on=on)
    if payer == "own":
        if not elig.may_redeem:
            raise RedeemNotAllowed(name=elder.name, age=policy_value("people.redeem_min_age", on=on))
        return account_for(elder), Kind.REDEMPTION
    if payer == "pool":
        if not elig.is_priority:
            raise NotPriority(name=elder.name)
        return systems["pool"], Kind.SERVICE_CREDIT
    raise BadPayer(field="payer", payer=payer)


@transaction.atomic  # a refused request must not leave newly opened accounts behind
def service_credit(
    *,
    key: str,
    volunteer: Resident,
    payer: str,
    elder: Resident | None,
    minutes: int,
    actor: User | None = None,
    memo: str = "",
    place: Region | None = None,
    ref: str = "",
    hold: bool = False,
    on: dt.date | None = None,
) -> Credit:
    """Pay a volunteer ``minutes`` (already rounded and weighted, see :func:`credited_minutes`).

    ``payer`` is "own" (the elder redeems stored hours), "pool" (a priority elder, paid by the public
    pool) or "government" (new hours issued). Above the balance cap the rest goes to the public pool and
    the volunteer is told. ``hold=True`` reserves the hours instead (a disputed visit); the cap is then
    applied when the hold is released.
    """
    _check_key(key)
    _check_minutes(minutes)
    if payer not in PAYERS:
        raise BadPayer(field="payer", payer=payer)
    if payer == "own" and elder is not None:
        accounts_for((elder, Account.Kind.PERSONAL), (volunteer, Account.Kind.PERSONAL))  # in a fixed order
    systems = {a.code: a for a in Account.objects.filter(code__in=("issuance", "pool"))}
    source, kind = _payer_account(payer, elder, on=on, systems=systems)
    target = account_for(volunteer)
    if source.pk == target.pk:
        raise SameAccount()
    pool = systems["pool"]
    digest = request_hash(
        op="service_credit", volunteer=volunteer, payer=payer, elder=elder, minutes=minutes, hold=hold
    )
    cap = int(policy_value("ledger.balance_cap_minutes", on=on))

    # The pool row is locked only when this credit may cross the cap (or the pool pays): otherwise two
    # credits to two volunteers would queue on it. The guess is made on an unlocked read and checked on
    # the locked row; a wrong guess (the volunteer's balance grew meanwhile) retries with the pool locked.
    # ``target`` was just read without a lock by account_for: its balance is the unlocked look.
    unlocked = target.credits_posted + target.credits_pending - target.debits_posted
    lock_pool = [(hold is False and unlocked + minutes > cap) or source.pk == pool.pk]

    def attempt() -> Credit:
        book = _Book([source, target, pool] if lock_pool[0] else [source, target])
        if hold:
            spec = Spec(
                key, source, target, minutes, kind, Phase.PENDING, memo=memo, place=place, ref=ref, beneficiary=elder
            )
            return Credit(book.insert(spec, digest=digest, actor=actor), None, minutes, payer)
        held = book.get(target)
        room = max(0, cap - held.credits_posted - held.credits_pending + held.debits_posted)
        if room < minutes and not lock_pool[0]:
            lock_pool[0] = True
            raise _RetryWithPool()
        to_volunteer = min(room, minutes)
        main = overflow = None
        if to_volunteer:
            main = book.insert(
                Spec(key, source, target, to_volunteer, kind, memo=memo, place=place, ref=ref, beneficiary=elder),
                digest=digest,
                actor=actor,
            )
        rest = minutes - to_volunteer
        # The first transfer written always carries ``key`` itself, so that a retry finds it (see replay).
        if rest and source.pk != pool.pk:
            overflow = book.insert(
                Spec(
                    f"{key}:cap" if main else key,
                    source,
                    pool,
                    rest,
                    Kind.CAP_OVERFLOW,
                    memo=memo,
                    place=place,
                    ref=ref,
                    beneficiary=elder,
                ),
                digest=digest,
                actor=actor,
            )
        elif rest and main is None:
            # The pool pays a volunteer at the cap: nothing moves, the hours stay in the pool. The request is
            # still recorded (a hold on the pool, cancelled at once) so that a retry cannot pay it later.
            noted = book.insert(
                Spec(
                    f"{key}:at-cap",
                    source,
                    target,
                    rest,
                    kind,
                    Phase.PENDING,
                    memo=memo,
                    place=place,
                    ref=ref,
                    beneficiary=elder,
                ),
                digest=digest,
                actor=actor,
            )
            book.insert(
                Spec(
                    key,
                    source,
                    target,
                    rest,
                    kind,
                    Phase.VOID,
                    pending=noted,
                    memo=memo,
                    place=place,
                    ref=ref,
                    beneficiary=elder,
                ),
                digest=digest,
                actor=actor,
            )
        if rest:
            _tell_cap(volunteer, rest, cap)
        return Credit(main, overflow, minutes, payer)

    def replay(first: Transfer) -> Credit:
        if first.phase == Phase.VOID:  # the pool paid a volunteer at the cap: nothing moved
            return Credit(None, None, minutes, payer)
        if first.kind == Kind.CAP_OVERFLOW:  # everything went to the pool
            return Credit(None, first, minutes, payer)
        overflow = Transfer.objects.filter(key=f"{key}:cap").first()
        return Credit(first, overflow, minutes, payer)

    try:
        return _idempotent(key, digest, attempt, replay)
    except _RetryWithPool:  # rolled back; now with the pool locked too
        return _idempotent(key, digest, attempt, replay)


class _RetryWithPool(Exception):
    """Internal: the volunteer's balance crossed the cap after the unlocked look; lock the pool and retry."""


def _tell_cap(volunteer: Resident, minutes: int, cap: int) -> None:
    notification_send(
        recipient=volunteer,
        topic="ledger.cap_overflow",
        text=_(
            "You have reached the limit of %(cap)s stored hours. %(hours)s from your latest service went to the "
            "public time pool, where they help elders in hardship. Thank you!"
        )
        % {"cap": cap // 60, "hours": _hours(minutes)},
    )


# --------------------------------------------------------------------------------------------- holds


def hold_post(
    *, key: str, pending: Transfer, minutes: int | None = None, actor: User | None = None, reason: str = ""
) -> Credit:
    """Release a hold to its receiver: all of it, or ``minutes`` of it (the rest goes back to the payer).

    For a held service credit the balance cap applies now: above it, the rest goes to the public pool.
    """
    _check_key(key)
    if pending.phase != Phase.PENDING:
        raise NotPending()
    amount = pending.amount if minutes is None else _check_minutes(minutes)
    if amount > pending.amount:
        raise PostExceedsHold(held=pending.amount)
    debit, credit = pending.debit_account, pending.credit_account
    pool = system_account("pool")
    digest = request_hash(op="hold_post", pending=pending, minutes=amount)
    cap = int(policy_value("ledger.balance_cap_minutes"))
    personal_target = credit.kind == Account.Kind.PERSONAL

    def attempt() -> Credit:
        book = _Book([debit, credit, pool])
        if Transfer.objects.filter(pending=pending).exists():
            raise PendingResolved()
        post = amount
        if personal_target:
            held = book.get(credit)
            room = max(0, cap - held.credits_posted - (held.credits_pending - pending.amount) + held.debits_posted)
            post = min(amount, room)
        if post:
            main = book.insert(
                Spec(
                    key,
                    debit,
                    credit,
                    post,
                    pending.kind,
                    Phase.POST,
                    pending=pending,
                    memo=reason or pending.memo,
                    place=pending.place,
                    ref=pending.ref,
                    beneficiary=pending.beneficiary,
                ),
                digest=digest,
                actor=actor,
            )
        else:
            main = book.insert(
                Spec(
                    key,
                    debit,
                    credit,
                    pending.amount,
                    pending.kind,
                    Phase.VOID,
                    pending=pending,
                    memo=reason,
                    place=pending.place,
                    ref=pending.ref,
                    beneficiary=pending.beneficiary,
                ),
                digest=digest,
                actor=actor,
            )
        overflow = None
        rest = amount - post
        if rest and debit.pk != pool.pk:
            overflow = book.insert(
                Spec(
                    f"{key}:cap",
                    debit,
                    pool,
                    rest,
                    Kind.CAP_OVERFLOW,
                    memo=pending.memo,
                    place=pending.place,
                    ref=pending.ref,
                    beneficiary=pending.beneficiary,
                ),
                digest=digest,
                actor=actor,
            )
        if rest and credit.resident is not None:
            _tell_cap(credit.resident, rest, cap)
        return Credit(main if post else None, overflow, amount, "hold", extra=[main])

    def replay(first: Transfer) -> Credit:
        overflow = Transfer.objects.filter(key=f"{key}:cap").first()
        return Credit(first if first.phase == Phase.POST else None, overflow, amount, "hold", extra=[first])

    return _idempotent(key, digest, attempt, replay)


def hold_void(*, key: str, pending: Transfer, actor: User | None = None, reason: str = "") -> Transfer:
    """Cancel a hold: the reserved minutes stay with the payer."""
    _check_key(key)
    if pending.phase != Phase.PENDING:
        raise NotPending()
    digest = request_hash(op="hold_void", pending=pending)
    debit, credit = pending.debit_account, pending.credit_account

    def attempt() -> Transfer:
        book = _Book([debit, credit])
        if Transfer.objects.filter(pending=pending).exists():
            raise PendingResolved()
        spec = Spec(
            key,
            debit,
            credit,
            pending.amount,
            pending.kind,
            Phase.VOID,
            pending=pending,
            memo=reason,
            place=pending.place,
            ref=pending.ref,
            beneficiary=pending.beneficiary,
        )
        return book.insert(spec, digest=digest, actor=actor)

    return _idempotent(key, digest, attempt, lambda t: t)


# --------------------------------------------------------------------------------------------- residents


@transaction.atomic  # a refused request must not leave newly opened accounts behind
def family_transfer(
    *, key: str, sender: Resident, recipient: Resident, minutes: int, actor: User | None = None, memo: str = ""
) -> Transfer:
    """Give hours to a registered relative of a kind the policy allows (spouse, parents, children, …)."""
    _check_key(key)
    _check_minutes(minutes)
    if sender.pk == recipient.pk:
        raise SameAccount()
    kinds = list(policy_value("people.transfer_relative_kinds"))
    if not is_relative(sender, recipient, kinds=kinds):
        raise NotARelative(field="recipient", name=recipient.name)
    debit, credit = accounts_for((sender, Account.Kind.PERSONAL), (recipient, Account.Kind.PERSONAL))
    return transfer_post(
        key=key,
        debit=debit,
        credit=credit,
        minutes=minutes,
        kind=Kind.FAMILY_TRANSFER,
        actor=actor,
        memo=memo,
    )


@transaction.atomic  # a refused request must not leave newly opened accounts behind
def donate(
    *,
    key: str,
    donor: Resident,
    minutes: int,
    to_elder: Resident | None = None,
    from_group_hours: bool = False,
    actor: User | None = None,
    memo: str = "",
) -> Transfer:
    """Donate hours to the public pool, or to a named priority elder in hardship."""
    _check_key(key)
    _check_minutes(minutes)
    source_kind = Account.Kind.GROUP_EARNED if from_group_hours else Account.Kind.PERSONAL
    if to_elder is None:
        source, target = account_for(donor, kind=source_kind), system_account("pool")
    else:
        if not eligibility(to_elder).is_priority:
            raise NotPriority(field="to_elder", name=to_elder.name)
        source, target = accounts_for((donor, source_kind), (to_elder, Account.Kind.PERSONAL))
    return transfer_post(
        key=key, debit=source, credit=target, minutes=minutes, kind=Kind.DONATION, actor=actor, memo=memo
    )


def group_hours_spend_check(account: Account, kind: str) -> None:
    """Hours in a group-earned account may only be donated (policy ``ledger.group_hours_donation_only``)."""
    if (
        account.kind == Account.Kind.GROUP_EARNED
        and kind != Kind.DONATION
        and policy_value("ledger.group_hours_donation_only")
    ):
        raise GroupHoursDonationOnly()


@transaction.atomic  # a refused request must not leave newly opened accounts behind
def guarantee_redeem(
    *, key: str, elder: Resident, minutes: int, actor: User | None = None, memo: str = "", ref: str = ""
) -> Transfer:
    """The bureau bought the service from a provider (政府兜底): the elder's hours are still spent."""
    _check_key(key)
    _check_minutes(minutes)
    elig = eligibility(elder)
    if not elig.may_redeem:
        raise RedeemNotAllowed(name=elder.name, age=policy_value("people.redeem_min_age"))
    return transfer_post(
        key=key,
        debit=account_for(elder),
        credit=system_account("guarantee"),
        minutes=minutes,
        kind=Kind.GUARANTEE,
        actor=actor,
        memo=memo,
        ref=ref,
    )


# --------------------------------------------------------------------------------------------- corrections


def transfer_reverse(*, key: str, original: Transfer, actor: User, reason: str) -> Transfer:
    """Correct a mistake: move the same minutes back. The original stays, and points at its reversal."""
    _check_key(key)
    if not is_staff_member(actor):
        raise NotAllowed()
    if not reason.strip():
        raise ReasonRequired(field="reason")
    if original.phase not in (Phase.POSTED, Phase.POST):
        raise NotReversible()
    digest = request_hash(op="reverse", original=original)
    debit, credit = original.credit_account, original.debit_account

    def attempt() -> Transfer:
        book = _Book([debit, credit])
        if Transfer.objects.filter(reverses=original).exists():
            raise AlreadyReversed()
        spec = Spec(
            key,
            debit,
            credit,
            original.amount,
            Kind.REVERSAL,
            reverses=original,
            memo=reason,
            place=original.place,
            ref=original.ref,
        )
        return book.insert(spec, digest=digest, actor=actor)

    return _idempotent(key, digest, attempt, lambda t: t)


def adjustment_post(*, key: str, account: Account, minutes: int, actor: User, reason: str) -> Transfer:
    """A supervisor's adjustment against the issuance account: positive adds hours, negative removes them."""
    _check_key(key)
    if not is_city_supervisor(actor):
        raise NotAllowed()
    if not reason.strip():
        raise ReasonRequired(field="reason")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes == 0:
        raise BadAmount(field="minutes")
    issuance = system_account("issuance")
    debit, credit = (issuance, account) if minutes > 0 else (account, issuance)
    return transfer_post(
        key=key, debit=debit, credit=credit, minutes=abs(minutes), kind=Kind.ADJUSTMENT, actor=actor, memo=reason
    )


# --------------------------------------------------------------------------------------------- pool grants


def pool_grant_request(*, actor: User, elder: Resident, minutes: int, reason: str) -> PoolGrant:
    """A staff member proposes a grant from the public pool to a priority elder (first pair of eyes)."""
    if not is_staff_member(actor):
        raise NotAllowed()
    _check_minutes(minutes)
    if not reason.strip():
        raise ReasonRequired(field="reason")
    if not eligibility(elder).is_priority:
        raise NotPriority(field="elder", name=elder.name)
    with transaction.atomic():
        return PoolGrant.objects.create(elder=elder, minutes=minutes, reason=reason.strip(), requested_by=actor)


def pool_grant_approve(*, actor: User, grant: PoolGrant) -> PoolGrant:
    """A second, different staff member approves: the minutes move from the pool to the elder, once."""
    if not is_staff_member(actor):
        raise NotAllowed()
    if actor.pk == grant.requested_by_id:
        raise GrantSameApprover()
    pool = system_account("pool")
    with transaction.atomic():
        target = account_for(grant.elder)
        locked = PoolGrant.objects.select_for_update().get(pk=grant.pk)
        if locked.status != PoolGrant.Status.REQUESTED:
            if locked.approved_by_id == actor.pk:
                raise GrantSameApprover()
            raise GrantDecided()
        transfer = transfer_post(
            key=f"pool-grant:{locked.pk}",
            debit=pool,
            credit=target,
            minutes=locked.minutes,
            kind=Kind.POOL_GRANT,
            actor=actor,
            memo=locked.reason,
            ref=f"grant:{locked.pk}",
        )
        locked.status = PoolGrant.Status.APPROVED
        locked.approved_by = actor
        locked.decided_at = timezone.now()
        locked.transfer = transfer
        locked.save(update_fields=["status", "approved_by", "decided_at", "transfer"])
    return locked


def pool_grant_reject(*, actor: User, grant: PoolGrant, reason: str) -> PoolGrant:
    if not is_staff_member(actor):
        raise NotAllowed()
    if not reason.strip():
        raise ReasonRequired(field="reason")
    with transaction.atomic():
        locked = PoolGrant.objects.select_for_update().get(pk=grant.pk)
        if locked.status != PoolGrant.Status.REQUESTED:
            raise GrantDecided()
        locked.status = PoolGrant.Status.REJECTED
        locked.decided_at = timezone.now()
        locked.reason = f"{locked.reason}\n— {reason.strip()}"
        locked.save(update_fields=["status", "decided_at", "reason"])
    return locked


# --------------------------------------------------------------------------------------------- batches


@dataclass(frozen=True)
class BatchEntry:
    """One line of a batch: ``minutes`` from ``debit`` to ``credit``; ``line`` makes its key unique."""

    line: str
    debit: Account
    credit: Account
    minutes: int
    kind: str
    memo: str = ""
    place: Region | None = None
    ref: str = ""


def batch_post(*, key: str, entries: Sequence[BatchEntry], actor: User | None = None, description: str = "") -> Batch:
    """Post many transfers at once, all or nothing, with the same checks as single transfers.

    The accounts are locked once, in primary-key order; every entry is checked against the balances as
    they stand after the entries before it. A second call with the same key and entries returns the batch.
    """
    _check_key(key)
    if not entries:
        raise EmptyBatch()
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        _check_minutes(entry.minutes)
        if entry.line in seen:
            raise DuplicateInBatch(index=index)
        seen.add(entry.line)
        if entry.debit.pk == entry.credit.pk:
            raise SameAccount()
        group_hours_spend_check(entry.debit, entry.kind)
    fingerprint = request_hash(
        op="batch",
        lines=[[e.line, e.debit.pk, e.credit.pk, e.minutes, e.kind] for e in entries],
    )
    existing = Batch.objects.filter(key=key).first()
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise IdempotencyConflict(field="key")
        return existing
    accounts = {e.debit.pk: e.debit for e in entries} | {e.credit.pk: e.credit for e in entries}
    for round_ in range(MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                batch = Batch.objects.create(
                    key=key,
                    description=description[:200],
                    count=len(entries),
                    total=sum(e.minutes for e in entries),
                    fingerprint=fingerprint,
                    actor=actor if actor is not None and actor.pk else None,
                )
                book = _Book(accounts.values())
                specs = [
                    Spec(
                        f"{key}/{e.line}"[:80],
                        e.debit,
                        e.credit,
                        e.minutes,
                        e.kind,
                        memo=e.memo,
                        place=e.place,
                        ref=e.ref,
                    )
                    for e in entries
                ]
                for spec in specs:
                    book.check(spec)
                    book.apply(spec)
                Transfer.objects.bulk_create(
                    [s.row(digest=fingerprint, actor=batch.actor, batch=batch) for s in specs],
                    batch_size=1000,
                )
                return batch
        except IntegrityError as exc:
            existing = Batch.objects.filter(key=key).first()
            if existing is not None:
                if existing.fingerprint != fingerprint:
                    raise IdempotencyConflict(field="key") from exc
                return existing
            raise IdempotencyConflict(field="key") from exc
        except OperationalError as exc:
            if not _is_retryable(exc) or round_ == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@transaction.atomic  # a refused request must not leave newly opened accounts behind
def group_credit_batch(
    *,
    key: str,
    volunteers: Sequence[tuple[Resident, int]],
    actor: User | None = None,
    memo: str = "",
    place: Region | None = None,
    ref: str = "",
) -> Batch:
    """Hours for every attendee of a group event, issued in one batch into their group-earned accounts."""
    issuance = system_account("issuance")
    entries = [
        BatchEntry(
            str(v.pk),
            issuance,
            account_for(v, kind=Account.Kind.GROUP_EARNED),
            minutes,
            Kind.GROUP_CREDIT,
            memo=memo,
            place=place,
            ref=ref,
        )
        for v, minutes in volunteers
    ]
    return batch_post(key=key, entries=entries, actor=actor, description=memo)


# --------------------------------------------------------------------------------------------- expiry


def hours_expire(*, on: dt.date | None = None, actor: User | None = None) -> list[Transfer]:
    """Expire hours older than ``ledger.expiry_days`` (0, the default, means hours never expire).

    Spending is counted first-in, first-out: the hours still unspent from what an account received
    before the cut-off day are ``credits before the cut-off − all debits so far`` (earlier expiries are
    debits too), so running this twice on a day, or every day, never expires an hour twice. Expired
    hours go back to the issuance account (kind ``expiry``) and the holder is told.
    """
    day = on or timezone.localdate()
    days = int(policy_value("ledger.expiry_days", on=day))
    if days <= 0:
        return []
    from django.db.models import Sum

    cutoff = timezone.make_aware(dt.datetime.combine(day - dt.timedelta(days=days), dt.time.min))
    issuance = system_account("issuance")
    posted = (Phase.POSTED, Phase.POST)
    old_credits = (
        Transfer.objects.filter(created_at__lt=cutoff, phase__in=posted, credit_account__kind=Account.Kind.PERSONAL)
        .values("credit_account")
        .annotate(s=Sum("amount"))
    )
    made = []
    for row in old_credits:
        account = Account.objects.get(pk=row["credit_account"])
        spent = Transfer.objects.filter(debit_account=account, phase__in=posted).aggregate(s=Sum("amount"))["s"] or 0
        due = min(int(row["s"]) - spent, account.available_balance)
        if due <= 0:
            continue
        made.append(
            transfer_post(
                key=f"expire:{account.pk}:{day.isoformat()}",
                debit=account,
                credit=issuance,
                minutes=due,
                kind=Kind.EXPIRY,
                actor=actor,
                memo=_("hours earned before %(day)s") % {"day": cutoff.date()},
            )
        )
        if account.resident is not None:
            notification_send(
                recipient=account.resident,
                topic="ledger.expiry",
                text=_("%(hours)s of your stored hours expired under the rule in force.") % {"hours": _hours(due)},
            )
    return made
