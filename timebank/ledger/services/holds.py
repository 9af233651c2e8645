"""Holds: releasing (in full or in part, with the balance cap) or cancelling a pending transfer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from timebank.common.selectors import policy_value

from ..errors import (
    NotPending,
    PendingResolved,
    PostExceedsHold,
)
from ..models import Account, Transfer
from .accounts import system_account
from .core import Credit, Kind, Phase, Spec, _Book, _check_key, _check_minutes, _idempotent, request_hash
from .credits import _tell_cap

if TYPE_CHECKING:
    from timebank.people.models import User

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
