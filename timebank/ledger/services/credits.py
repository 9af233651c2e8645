"""Service credits: rounding of served minutes and the credit to the volunteer, with the balance cap."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from timebank.common.selectors import policy_value
from timebank.notify.services import notification_send
from timebank.people.models import Resident
from timebank.people.selectors import eligibility
from timebank.places.models import Region

from ..errors import (
    BadCoefficient,
    BadPayer,
    NotPriority,
    RedeemNotAllowed,
    SameAccount,
)
from ..models import Account, Transfer
from .accounts import account_for, accounts_for
from .core import Credit, Kind, Phase, Spec, _Book, _check_key, _check_minutes, _hours, _idempotent, request_hash

if TYPE_CHECKING:
    from timebank.people.models import User

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
