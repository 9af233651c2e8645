"""Batches: many transfers posted together, all or nothing (group events, imports).

One transaction: the batch row (``INSERT … ON CONFLICT (key) DO NOTHING``: a repeated key is a replay),
one read of the accounts (the cached ones locked in id order), the checks of every entry against the
balances as they stand after the entries before it, and the transfers in one multi-row INSERT per 1,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from timebank.common.errors import DomainError
from timebank.people.models import Resident
from timebank.places.models import Region

from ..errors import (
    AccountNotOpen,
    DuplicateInBatch,
    EmptyBatch,
    IdempotencyConflict,
    InsufficientBalance,
    SameAccount,
)
from ..models import Account, Batch
from .core import (
    Kind,
    Row,
    _check_key,
    _check_minutes,
    _hours,
    actor_id,
    atomic,
    insert_rows,
    lock_accounts,
    policies_fresh,
    request_hash,
    resident_accounts,
    run,
    system_account_cached,
)
from .postings import group_hours_spend_check

if TYPE_CHECKING:
    from timebank.people.models import User

CHUNK = 1000  # transfers per INSERT statement


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
    if any(e.debit.kind == Account.Kind.GROUP_EARNED for e in entries):
        policies_fresh()  # the batch has no stamp guard: decide with the policies in force
    for entry in entries:
        group_hours_spend_check(entry.debit, entry.kind)
    fingerprint = request_hash(
        op="batch",
        lines=[[e.line, e.debit.pk, e.credit.pk, e.minutes, e.kind] for e in entries],
    )
    actor_pk = actor_id(actor)

    def replay() -> Batch | None:
        existing = Batch.objects.filter(key=key).first()
        if existing is not None and existing.fingerprint != fingerprint:
            raise IdempotencyConflict(field="key")
        return existing

    def attempt() -> Batch:
        with atomic():
            accounts = {e.debit.pk: e.debit for e in entries} | {e.credit.pk: e.credit for e in entries}
            try:
                _check(entries, lock_accounts(accounts.values()))
            except DomainError:
                done = replay()  # a batch posted before, whose accounts have moved on since
                if done is not None:
                    return done
                raise
            # Nothing is written before the checks, so a refusal leaves the caller's transaction usable.
            now = timezone.now()
            batch = Batch(
                key=key,
                description=description[:200],
                count=len(entries),
                total=sum(e.minutes for e in entries),
                fingerprint=fingerprint,
                actor_id=actor_pk,
                created_at=now,
            )
            with connection.cursor() as cur:
                cur.execute(
                    "INSERT INTO ledger_batch (key, description, count, total, fingerprint, actor_id, created_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING id",
                    [key, batch.description, batch.count, batch.total, fingerprint, actor_pk, now],
                )
                made = cur.fetchone()
            if made is None:  # the key was used before
                done = replay()
                assert done is not None
                return done
            batch.pk = made[0]
            batch._state.adding = False
            rows = [
                Row(
                    f"{key}/{e.line}"[:80],
                    fingerprint,
                    e.debit,
                    e.credit,
                    e.minutes,
                    e.kind,
                    batch_id=batch.pk,
                    memo=e.memo,
                    place_id=e.place.pk if e.place is not None else None,
                    ref=e.ref,
                    actor_id=actor_pk,
                )
                for e in entries
            ]
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                if insert_rows(chunk) != len(chunk):  # a line's key was taken by another request
                    raise IdempotencyConflict(field="key")
            return batch

    return run(attempt)


def _check(entries: Sequence[BatchEntry], locked: dict[int, dict[str, Any]]) -> None:
    """Every entry against the balances after the entries before it (on the rows read by the caller)."""
    available = {pk: a["credits_posted"] - a["debits_posted"] - a["debits_pending"] for pk, a in locked.items()}
    for a in locked.values():
        if a["status"] != Account.Status.OPEN:
            raise AccountNotOpen(name=a["name"], status=Account.Status(a["status"]).label)
    for e in entries:
        if locked[e.debit.pk]["no_overdraw"] and available[e.debit.pk] < e.minutes:
            raise InsufficientBalance(available=_hours(available[e.debit.pk]), needed=_hours(e.minutes))
        available[e.debit.pk] -= e.minutes
        available[e.credit.pk] += e.minutes


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
    issuance = system_account_cached("issuance")
    with transaction.atomic():  # a refused request must not leave newly opened accounts behind
        accounts = resident_accounts(*[(v, Account.Kind.GROUP_EARNED) for v, _m in volunteers])
        entries = [
            BatchEntry(
                str(v.pk),
                issuance,
                account,
                minutes,
                Kind.GROUP_CREDIT,
                memo=memo,
                place=place,
                ref=ref,
            )
            for (v, minutes), account in zip(volunteers, accounts, strict=True)
        ]
        return batch_post(key=key, entries=entries, actor=actor, description=memo)
