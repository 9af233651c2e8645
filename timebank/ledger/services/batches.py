"""Batches: many transfers posted together, all or nothing (group events, imports)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, OperationalError, transaction

from timebank.people.models import Resident
from timebank.places.models import Region

from ..errors import (
    DuplicateInBatch,
    EmptyBatch,
    IdempotencyConflict,
    SameAccount,
)
from ..models import Account, Batch, Transfer
from .accounts import account_for, system_account
from .core import MAX_ATTEMPTS, Kind, Spec, _Book, _check_key, _check_minutes, _is_retryable, request_hash
from .postings import group_hours_spend_check

if TYPE_CHECKING:
    from timebank.people.models import User

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
