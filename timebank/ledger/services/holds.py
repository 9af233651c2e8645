"""Holds: releasing (in full or in part, with the balance cap) or cancelling a pending transfer.

Normal path: one guarded INSERT (the hold is not settled yet, the receiver stays under the cap); a release
that crosses the cap takes the split path, in a transaction with the rows locked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import NotPending, PendingResolved, PostExceedsHold
from ..models import Account, Transfer
from .core import (
    Credit,
    Kind,
    Phase,
    Row,
    _check_key,
    _check_minutes,
    _replayed,
    accounts_by_id,
    actor_id,
    atomic,
    explain,
    guard_for,
    insert_transfers,
    ledger_policy,
    lock_accounts,
    lookup,
    policies,
    post_one,
    replay_or_conflict,
    request_hash,
    run,
    system_account_cached,
)
from .credits import _tell_cap

if TYPE_CHECKING:
    from timebank.people.models import User


def _resolution(key: str, digest: str, pending: Transfer, actor: User | None, **fields: object) -> Row:
    """The row that settles ``pending`` (same accounts, kind, place, reference and elder)."""
    debit, credit = accounts_by_id(pending.debit_account_id, pending.credit_account_id)
    base = Row(
        key,
        digest,
        debit,
        credit,
        pending.amount,
        pending.kind,
        Phase.VOID,
        pending_id=pending.pk,
        memo=pending.memo,
        beneficiary_id=pending.beneficiary_id,
        place_id=pending.place_id,
        ref=pending.ref,
        actor_id=actor_id(actor),
    )
    return base.but(**fields)


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
    digest = request_hash(op="hold_post", pending=pending, minutes=amount)

    def replay(first: Transfer) -> Credit:
        overflow = lookup(f"{key}:cap")
        return _replayed(Credit(first if first.phase == Phase.POST else None, overflow, amount, "hold", extra=[first]))

    def attempt() -> Credit:
        row = _resolution(key, digest, pending, actor, amount=amount, phase=Phase.POST, memo=reason or pending.memo)
        personal = row.credit.kind == Account.Kind.PERSONAL
        cap = int(ledger_policy("ledger.balance_cap_minutes"))
        g = guard_for(
            row,
            capped=row.credit.pk if personal else None,
            gain=amount - pending.amount,
            cap=cap,
            stamp=policies().stamp,
        )
        made = insert_transfers([row], guard=g)
        if made:
            return Credit(made[0], None, amount, "hold", extra=[made[0]])
        existing = replay_or_conflict(key, digest)
        if existing is not None:
            return replay(existing)
        explain(row, g)  # returns only when the cap is crossed
        with atomic():
            return _post_split(row, pending, amount, cap, reason, replay)

    return run(attempt)


def _post_split(
    row: Row, pending: Transfer, amount: int, cap: int, reason: str, replay: Callable[[Transfer], Credit]
) -> Credit:
    """The split path of :func:`hold_post`: up to the cap to the receiver, the rest to the pool."""
    pool = system_account_cached("pool")
    debit, credit, key = row.debit, row.credit, row.key
    locked = lock_accounts([debit, credit, pool])
    existing = replay_or_conflict(key, row.request_hash)  # a duplicate that held the lock before us
    if existing is not None:
        return replay(existing)
    if Transfer.objects.filter(pending_id=pending.pk).exists():
        raise PendingResolved()
    held = locked[credit.pk]
    room = max(0, cap - held["credits_posted"] - (held["credits_pending"] - pending.amount) + held["debits_posted"])
    post = min(amount, room)
    main = row.but(amount=post) if post else row.but(amount=pending.amount, phase=Phase.VOID, memo=reason)
    rest = amount - post
    overflow = None
    if rest and debit.pk != pool.pk:
        overflow = row.but(
            key=f"{key}:cap",
            credit=pool,
            amount=rest,
            kind=Kind.CAP_OVERFLOW,
            phase=Phase.POSTED,
            pending_id=None,
            memo=pending.memo,
        )
    made = insert_transfers([r for r in (main, overflow) if r is not None])
    if rest and credit.resident is not None:
        _tell_cap(credit.resident, rest, cap)
    return Credit(made[0] if post else None, made[1] if overflow else None, amount, "hold", extra=[made[0]])


def hold_void(*, key: str, pending: Transfer, actor: User | None = None, reason: str = "") -> Transfer:
    """Cancel a hold: the reserved minutes stay with the payer."""
    _check_key(key)
    if pending.phase != Phase.PENDING:
        raise NotPending()
    digest = request_hash(op="hold_void", pending=pending)
    return run(lambda: post_one(_resolution(key, digest, pending, actor, memo=reason)))
