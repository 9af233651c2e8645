"""Plain postings: transfers, family transfers, donations, guarantee purchases, corrections and adjustments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from timebank.common.errors import NotAllowed
from timebank.common.selectors import policy_value
from timebank.people.models import Resident
from timebank.people.selectors import eligibility, is_city_supervisor, is_relative, is_staff_member
from timebank.places.models import Region

from ..errors import (
    AlreadyReversed,
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
from .accounts import account_for, accounts_for, system_account
from .core import Kind, Phase, Spec, _Book, _check_key, _check_minutes, _idempotent, _scoped, request_hash

if TYPE_CHECKING:
    from timebank.people.models import User


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


# --------------------------------------------------------------------------------------------- residents


@transaction.atomic  # a refused request must not leave newly opened accounts behind
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
        client=client,
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
    client: User | None = None,
) -> Transfer:
    """Donate hours to the public pool, or to a named priority elder in hardship.

    ``client``: the user who chose ``key`` (see :func:`transfer_post`)."""
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
        key=key,
        debit=source,
        credit=target,
        minutes=minutes,
        kind=Kind.DONATION,
        actor=actor,
        memo=memo,
        client=client,
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
