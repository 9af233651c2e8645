"""Shared by every ledger service: keys, request digests, the locked book of accounts, idempotency and retries."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import IntegrityError, OperationalError, transaction
from django.utils.translation import gettext as _

from timebank.certificates import events as webhook_events
from timebank.common.errors import DomainError
from timebank.people.models import Resident
from timebank.places.models import Region

from ..errors import (
    AccountNotOpen,
    AlreadyReversed,
    BadAmount,
    BadKey,
    IdempotencyConflict,
    InsufficientBalance,
    PendingResolved,
    SameAccount,
)
from ..models import Account, Batch, Transfer

if TYPE_CHECKING:
    from timebank.people.models import User


T = TypeVar("T")
Kind = Transfer.Kind
Phase = Transfer.Phase

_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,80}$")
MAX_ATTEMPTS = 4


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


def client_key(client: User, key: str) -> str:
    """Where a client's key is stored: ``c:<user id>:<key>``, in the caller's own namespace.

    System keys (``visit-<id>-credit``, ``pool-grant:<id>``, ``need-<id>-guarantee``, ``expire:…``) never
    start with ``c:``, so a client cannot take one: a client key shaped like a system key is not refused, it
    simply lives in the client's namespace and blocks nothing; nor can a client reach another client's keys.
    """
    return f"c:{client.pk}:{_check_key(key)}"


def _scoped(key: str, client: User | None) -> str:
    return client_key(client, key) if client is not None else _check_key(key)


def _replayed(result: T) -> T:
    """Mark a result returned for a repeated key (what the API answers as ``replayed``)."""
    if isinstance(result, Transfer | Credit):
        result.replayed = True
    return result


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
        return _replayed(replay(existing))
    for round_ in range(MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                return attempt()
        except IntegrityError as exc:
            existing = Transfer.objects.filter(key=key).first()
            if existing is not None:  # a concurrent call with the same key won the race
                if existing.request_hash != digest:
                    raise IdempotencyConflict(field="key") from exc
                return _replayed(replay(existing))
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
        return InsufficientBalance(available="?", needed="?")
    return IdempotencyConflict()


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".rstrip("0").rstrip(".") + _(" h")


@dataclass
class Credit:
    """The result of a service credit: the transfer to the volunteer and, above the cap, to the pool."""

    transfer: Transfer | None
    overflow: Transfer | None
    minutes: int
    payer: str
    extra: list[Transfer] = field(default_factory=list)
    replayed: bool = False  # True when the key had already been used for this request

    @property
    def to_volunteer(self) -> int:
        return self.transfer.amount if self.transfer else 0
