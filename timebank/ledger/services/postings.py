"""Plain postings: transfers, family transfers, donations, guarantee purchases, corrections and adjustments.

Each is one guarded INSERT on the normal path (see :mod:`.core`); a resident's account not yet opened is
opened in the same transaction, so a refused request leaves none behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from timebank.common.errors import NotAllowed
from timebank.people.models import Resident
from timebank.people.selectors import eligibility, is_city_supervisor, is_relative, is_staff_member
from timebank.places.models import Region

from ..errors import (
    BadAmount,
    BadPayer,
    GroupHoursDonationOnly,
    NotARelative,
    NotPriority,
    NotReversible,
    ReasonRequired,
    RedeemNotAllowed,
    SameAccount,
)
from ..models import Account, Transfer
from .core import (
    Kind,
    Phase,
    Row,
    T,
    _check_key,
    _check_minutes,
    _scoped,
    accounts_by_id,
    actor_id,
    ledger_policy,
    post_one,
    refuse_unless_fresh,
    request_hash,
    resident_accounts,
    resident_accounts_known,
    run,
    system_account_cached,
)

if TYPE_CHECKING:
    from timebank.people.models import User

PERSONAL = Account.Kind.PERSONAL


def with_accounts(wanted: Sequence[tuple[Resident, str]], post: Callable[[list[Account]], T]) -> T:
    """``post(accounts)``: without a transaction when every account is known, else in one with the opening."""
    if resident_accounts_known(*wanted):
        return post(resident_accounts(*wanted))
    # Some account may have to be opened: a refused request must not leave it behind (a savepoint inside a
    # caller's transaction; only on a resident's first postings after this process started).
    with transaction.atomic():
        return post(resident_accounts(*wanted))


def _transfer(
    *,
    key: str,
    debit: Account,
    credit: Account,
    minutes: int,
    kind: str,
    actor: User | None,
    memo: str = "",
    place: Region | None = None,
    ref: str = "",
    hold: bool = False,
) -> Transfer:
    """The common core of the postings below; ``key`` is already checked and scoped."""
    _check_minutes(minutes)
    if debit.pk == credit.pk:
        raise SameAccount()
    if kind not in Kind.values:
        raise BadPayer(payer=kind)
    group_hours_spend_check(debit, kind)
    digest = request_hash(op="transfer", debit=debit, credit=credit, minutes=minutes, kind=kind, hold=hold)
    row = Row(
        key,
        digest,
        debit,
        credit,
        minutes,
        kind,
        Phase.PENDING if hold else Phase.POSTED,
        memo=memo,
        place_id=place.pk if place is not None else None,
        ref=ref,
        actor_id=actor_id(actor),
    )
    return post_one(row)


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
    client: User | None = None,
) -> Transfer:
    """The plain transfer: ``minutes`` from ``debit`` to ``credit`` (``hold=True``: reserve only).

    Policy checks (who may send to whom) belong to the specific services below; this is their common core.
    ``client``: the key was chosen by this user (API, web form), so it is kept in the user's namespace.
    The returned transfer's ``replayed`` is True when the key had already been used for this request.
    """
    key = _scoped(key, client)
    return run(
        lambda: _transfer(
            key=key,
            debit=debit,
            credit=credit,
            minutes=minutes,
            kind=kind,
            actor=actor,
            memo=memo,
            place=place,
            ref=ref,
            hold=hold,
        )
    )


def group_hours_spend_check(account: Account, kind: str) -> None:
    """Hours in a group-earned account may only be donated (policy ``ledger.group_hours_donation_only``)."""
    if (
        account.kind == Account.Kind.GROUP_EARNED
        and kind != Kind.DONATION
        and ledger_policy("ledger.group_hours_donation_only")
    ):
        raise refuse_unless_fresh(GroupHoursDonationOnly())


# --------------------------------------------------------------------------------------------- residents


def family_transfer(
    *,
    key: str,
    sender: Resident,
    recipient: Resident,
    minutes: int,
    actor: User | None = None,
    memo: str = "",
    client: User | None = None,
) -> Transfer:
    """Give hours to a registered relative of a kind the policy allows (spouse, parents, children, …).

    ``client``: the user who chose ``key`` (see :func:`transfer_post`)."""
    key = _scoped(key, client)
    _check_minutes(minutes)
    if sender.pk == recipient.pk:
        raise SameAccount()

    def attempt() -> Transfer:
        kinds = list(ledger_policy("people.transfer_relative_kinds"))
        if not is_relative(sender, recipient, kinds=kinds):
            raise refuse_unless_fresh(NotARelative(field="recipient", name=recipient.name))
        return with_accounts(
            [(sender, PERSONAL), (recipient, PERSONAL)],
            lambda accounts: _transfer(
                key=key,
                debit=accounts[0],
                credit=accounts[1],
                minutes=minutes,
                kind=Kind.FAMILY_TRANSFER,
                actor=actor,
                memo=memo,
            ),
        )

    return run(attempt)


def donate(
    *,
    key: str,
    donor: Resident,
    minutes: int,
    to_elder: Resident | None = None,
    from_group_hours: bool = False,
    actor: User | None = None,
    memo: str = "",
    client: User | None = None,
) -> Transfer:
    """Donate hours to the public pool, or to a named priority elder in hardship.

    ``client``: the user who chose ``key`` (see :func:`transfer_post`)."""
    key = _scoped(key, client)
    _check_minutes(minutes)
    source_kind = Account.Kind.GROUP_EARNED if from_group_hours else PERSONAL
    if to_elder is not None and not eligibility(to_elder).is_priority:
        raise NotPriority(field="to_elder", name=to_elder.name)
    wanted = [(donor, source_kind)] if to_elder is None else [(donor, source_kind), (to_elder, PERSONAL)]

    def post(accounts: list[Account]) -> Transfer:
        target = system_account_cached("pool") if to_elder is None else accounts[1]
        return _transfer(
            key=key, debit=accounts[0], credit=target, minutes=minutes, kind=Kind.DONATION, actor=actor, memo=memo
        )

    return run(lambda: with_accounts(wanted, post))


def guarantee_redeem(
    *, key: str, elder: Resident, minutes: int, actor: User | None = None, memo: str = "", ref: str = ""
) -> Transfer:
    """The bureau bought the service from a provider (政府兜底): the elder's hours are still spent."""
    _check_key(key)
    _check_minutes(minutes)
    elig = eligibility(elder)
    if not elig.may_redeem:
        raise RedeemNotAllowed(name=elder.name, age=ledger_policy("people.redeem_min_age"))
    return run(
        lambda: with_accounts(
            [(elder, PERSONAL)],
            lambda accounts: _transfer(
                key=key,
                debit=accounts[0],
                credit=system_account_cached("guarantee"),
                minutes=minutes,
                kind=Kind.GUARANTEE,
                actor=actor,
                memo=memo,
                ref=ref,
            ),
        )
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
    debit, credit = accounts_by_id(original.credit_account_id, original.debit_account_id)
    row = Row(
        key,
        digest,
        debit,
        credit,
        original.amount,
        Kind.REVERSAL,
        reverses_id=original.pk,
        memo=reason,
        place_id=original.place_id,
        ref=original.ref,
        actor_id=actor_id(actor),
    )
    return run(lambda: post_one(row))


def adjustment_post(*, key: str, account: Account, minutes: int, actor: User, reason: str) -> Transfer:
    """A supervisor's adjustment against the issuance account: positive adds hours, negative removes them."""
    _check_key(key)
    if not is_city_supervisor(actor):
        raise NotAllowed()
    if not reason.strip():
        raise ReasonRequired(field="reason")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes == 0:
        raise BadAmount(field="minutes")
    issuance = system_account_cached("issuance")
    debit, credit = (issuance, account) if minutes > 0 else (account, issuance)
    return transfer_post(
        key=key, debit=debit, credit=credit, minutes=abs(minutes), kind=Kind.ADJUSTMENT, actor=actor, memo=reason
    )
