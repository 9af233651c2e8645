"""Service credits: rounding of served minutes and the credit to the volunteer, with the balance cap."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

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
from .core import (
    Credit,
    Kind,
    Phase,
    Row,
    _check_key,
    _check_minutes,
    _hours,
    _replayed,
    actor_id,
    atomic,
    check_locked,
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
from .postings import with_accounts

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
    # this process's copy of the policies (no statement); a posting made with it is checked against the
    # policies' version stamp in the statement that writes it
    step = int(ledger_policy("ledger.rounding_step_minutes", on=on))
    mode = ledger_policy("ledger.rounding_mode", on=on)
    raw = Decimal(actual_minutes) * coef / step
    rounding = {"nearest": ROUND_HALF_UP, "down": "ROUND_FLOOR", "up": "ROUND_CEILING"}[mode]
    return int(raw.quantize(Decimal(1), rounding=rounding)) * step


# --------------------------------------------------------------------------------------------- service credit


PAYERS = ("own", "pool", "government")
PERSONAL = Account.Kind.PERSONAL


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

    Normal path: one guarded INSERT (the payer can pay, the volunteer stays under the cap). Only a credit
    that crosses the cap takes the split path: in a transaction, the volunteer's, the payer's and the
    pool's rows locked in id order, the part under the cap to the volunteer, the rest to the pool.
    """
    _check_key(key)
    _check_minutes(minutes)
    if payer not in PAYERS:
        raise BadPayer(field="payer", payer=payer)
    digest = request_hash(
        op="service_credit", volunteer=volunteer, payer=payer, elder=elder, minutes=minutes, hold=hold
    )
    if payer == "government":
        kind, wanted = Kind.SERVICE_CREDIT, [(volunteer, PERSONAL)]
    elif elder is None:
        raise BadPayer(field="payer", payer=payer)
    else:
        elig = eligibility(elder, on=on)
        if payer == "own":
            if not elig.may_redeem:
                raise RedeemNotAllowed(name=elder.name, age=ledger_policy("people.redeem_min_age", on=on))
            kind, wanted = Kind.REDEMPTION, [(elder, PERSONAL), (volunteer, PERSONAL)]
        else:
            if not elig.is_priority:
                raise NotPriority(name=elder.name)
            kind, wanted = Kind.SERVICE_CREDIT, [(volunteer, PERSONAL)]

    def post(accounts: list[Account]) -> Credit:
        target = accounts[-1]
        source = accounts[0] if payer == "own" else system_account_cached("pool" if payer == "pool" else "issuance")
        if source.pk == target.pk:
            raise SameAccount()
        row = Row(
            key,
            digest,
            source,
            target,
            minutes,
            kind,
            Phase.PENDING if hold else Phase.POSTED,
            memo=memo,
            beneficiary_id=elder.pk if elder is not None else None,
            place_id=place.pk if place is not None else None,
            ref=ref,
            actor_id=actor_id(actor),
        )
        if hold:
            held = post_one(row)
            return Credit(held, None, minutes, payer, replayed=held.replayed)
        cap = int(ledger_policy("ledger.balance_cap_minutes", on=on))
        g = guard_for(row, capped=target.pk, gain=minutes, cap=cap, stamp=policies().stamp)
        made = insert_transfers([row], guard=g)
        if made:
            return Credit(made[0], None, minutes, payer)
        existing = replay_or_conflict(key, digest)
        if existing is not None:
            return _replayed(_credit_replay(existing, key, minutes, payer))
        explain(row, g)  # returns only when the cap is crossed
        with atomic():
            return _credit_split(row, volunteer, cap, payer)

    return run(lambda: with_accounts(wanted, post))


def _credit_split(row: Row, volunteer: Resident, cap: int, payer: str) -> Credit:
    """The split path of :func:`service_credit`: up to the cap to the volunteer, the rest to the pool."""
    pool = system_account_cached("pool")
    source, target, minutes, key = row.debit, row.credit, row.amount, row.key
    locked = lock_accounts([source, target, pool])
    existing = replay_or_conflict(key, row.request_hash)  # a duplicate that held the lock before us
    if existing is not None:
        return _replayed(_credit_replay(existing, key, minutes, payer))
    check_locked(locked, row)
    held = locked[target.pk]
    room = max(0, cap - held["credits_posted"] - held["credits_pending"] + held["debits_posted"])
    to_volunteer = min(room, minutes)
    rest = minutes - to_volunteer
    main = row.but(amount=to_volunteer) if to_volunteer else None
    # The first transfer written always carries ``key`` itself, so that a retry finds it (see the replay).
    if rest and source.pk != pool.pk:
        overflow = row.but(key=f"{key}:cap" if main else key, credit=pool, amount=rest, kind=Kind.CAP_OVERFLOW)
        made = insert_transfers([r for r in (main, overflow) if r is not None])
        credit = Credit(made[0] if main else None, made[-1], minutes, payer)
    elif main is None:
        # The pool pays a volunteer at the cap: nothing moves, the hours stay in the pool. The request is
        # still recorded (a hold on the pool, cancelled at once) so that a retry cannot pay it later.
        [noted] = insert_transfers([row.but(key=f"{key}:at-cap", amount=rest, phase=Phase.PENDING)])
        insert_transfers([row.but(amount=rest, phase=Phase.VOID, pending_id=noted.pk)])
        credit = Credit(None, None, minutes, payer)
    else:  # all of it fits (the balance fell meanwhile), or the pool pays up to the cap and keeps the rest
        credit = Credit(insert_transfers([main])[0], None, minutes, payer)
    if rest:
        _tell_cap(volunteer, rest, cap)
    return credit


def _credit_replay(first: Transfer, key: str, minutes: int, payer: str) -> Credit:
    if first.phase == Phase.VOID:  # the pool paid a volunteer at the cap: nothing moved
        return Credit(None, None, minutes, payer)
    if first.kind == Kind.CAP_OVERFLOW:  # everything went to the pool
        return Credit(None, first, minutes, payer)
    if first.phase == Phase.PENDING:
        return Credit(first, None, minutes, payer)
    return Credit(first, lookup(f"{key}:cap"), minutes, payer)


def _tell_cap(volunteer: Resident, minutes: int, cap: int) -> None:
    """Tell the volunteer, in the volunteer's language, not the language of whoever confirmed the visit.

    Residents have no stored language preference, so that is the site's default (zh-hans).
    """
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        text = _(
            "You have reached the limit of %(cap)s stored hours. %(hours)s from your latest service went to the "
            "public time pool, where they help elders in hardship. Thank you!"
        ) % {"cap": cap // 60, "hours": _hours(minutes)}
    notification_send(recipient=volunteer, topic="ledger.cap_overflow", text=text)
