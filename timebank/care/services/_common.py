"""The state machine and the helpers every service shares (who acts for an elder, who pays)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from timebank.care.errors import (
    CannotConfirm,
    IllegalTransition,
    NotEnoughHours,
    NotTheirElder,
    TooShort,
)
from timebank.care.models import (
    CareEvent,
    Need,
    Visit,
)
from timebank.ledger import selectors as ledger_selectors
from timebank.ledger import services as ledger
from timebank.ledger.errors import InsufficientBalance
from timebank.ledger.models import Transfer
from timebank.notify.services import notification_send
from timebank.people.models import Relationship, Resident
from timebank.people.selectors import can_manage_resident, eligibility

if TYPE_CHECKING:
    from timebank.people.models import User


NS = Need.Status
VS = Visit.Status

#: The allowed moves of a visit: from status → statuses it may go to.
VISIT_MOVES: dict[str, set[str]] = {
    VS.ASSIGNED: {VS.CHECKED_IN, VS.CANCELLED, VS.NO_SHOW},
    VS.CHECKED_IN: {VS.CHECKED_OUT},
    VS.CHECKED_OUT: {VS.CONFIRMED, VS.DISPUTED, VS.TOO_SHORT},
    VS.DISPUTED: {VS.CONFIRMED, VS.VOIDED},
    VS.CONFIRMED: {VS.RATED},
    VS.RATED: set(),
    VS.VOIDED: set(),
    VS.TOO_SHORT: set(),
    VS.CANCELLED: set(),
    VS.NO_SHOW: set(),
}
NEED_MOVES: dict[str, set[str]] = {
    NS.OPEN: {NS.ASSIGNED, NS.CANCELLED, NS.EXPIRED, NS.GUARANTEED},
    NS.ASSIGNED: {NS.OPEN, NS.DONE, NS.CANCELLED},
    NS.DONE: set(),
    NS.CANCELLED: set(),
    NS.EXPIRED: set(),
    NS.GUARANTEED: set(),
}


def _move_visit(visit: Visit, to: str, *, actor: User | None, note: str = "") -> None:
    if to not in VISIT_MOVES[visit.status]:
        raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
    CareEvent.objects.create(
        need=visit.need, visit=visit, from_status=visit.status, to_status=to, actor=actor, note=note[:300]
    )
    visit.status = to


def _move_need(need: Need, to: str, *, actor: User | None, note: str = "") -> None:
    if to not in NEED_MOVES[need.status]:
        raise IllegalTransition(thing=_("need"), status=Need.Status(need.status).label)
    CareEvent.objects.create(need=need, from_status=need.status, to_status=to, actor=actor, note=note[:300])
    need.status = to


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and actor.pk else None


def _via(actor: User, elder: Resident) -> str:
    """How ``actor`` may act for ``elder``: as the elder, as their proxy, or as station staff."""
    if actor.resident_id == elder.pk:
        return Need.Via.ELDER
    if (
        actor.resident_id
        and Relationship.objects.filter(
            resident=elder, relative_id=actor.resident_id, is_proxy=True, ended_at__isnull=True
        ).exists()
    ):
        return Need.Via.PROXY
    if can_manage_resident(actor, elder):
        return Need.Via.STATION
    raise NotTheirElder()


def _default_payer(elder: Resident) -> str:
    return Need.Payer.POOL if eligibility(elder).is_priority else Need.Payer.GOVERNMENT


def _confirmer(actor: User, visit: Visit) -> str:
    if actor.resident_id is not None and actor.resident_id == visit.volunteer_id:
        raise CannotConfirm()  # even as the elder's proxy or as station staff
    try:
        return _via(actor, visit.need.elder)
    except NotTheirElder:
        raise CannotConfirm() from None


def _not_enough(elder: Resident, minutes: int) -> NotEnoughHours:
    return NotEnoughHours(
        name=elder.name,
        available=ledger_selectors.hours(max(ledger_selectors.resident_balance(elder).available, 0)),
        needed=ledger_selectors.hours(minutes),
    )


def _payer_now(need: Need, minutes: int) -> tuple[str, str]:
    """Who pays at confirmation. A priority elder's visit falls back to the government when the public pool
    has too few hours (DOMAIN.md: "paid for from the public pool or the government budget")."""
    if need.payer == Need.Payer.POOL:
        pool = ledger.system_account("pool")
        if ledger_selectors.balance(pool).available < minutes:
            return Need.Payer.GOVERNMENT, "; the public pool was short, the government paid"
    return need.payer, ""


# --------------------------------------------------------------------------------------------- reservations
# A need paid by the elder's own hours holds them in the ledger from publication: a pending transfer from the
# elder's account to the guarantee account (a derived account, never locked), so the ledger itself refuses a
# family transfer, donation or other redemption that would spend them. The hold is voided when the need ends
# without spending them (cancelled, expired, too short to earn hours) and when the visit is paid or disputed,
# in the same transaction as the redemption or dispute hold that replaces it (the hold cannot be posted to the
# volunteer: a hold's receiver is fixed when it is made, and the volunteer is not known at publication).


def _reserve(need: Need, *, actor: User | None) -> None:
    """Hold ``need.minutes_reserved`` of the elder's own hours for ``need`` (inside the caller's transaction).

    Raises :class:`NotEnoughHours` when the elder's available hours (already net of other holds) are short;
    the ledger decides on the locked account row, so two publications or a publication and a transfer racing
    for the same hours cannot both have them.
    """
    try:
        need.hold = ledger.transfer_post(
            key=f"need-{need.pk}-reserve",
            debit=ledger.account_for(need.elder),
            credit=ledger.system_account("guarantee"),
            minutes=need.minutes_reserved,
            kind=Transfer.Kind.REDEMPTION,
            actor=actor,
            memo=need.item.name,
            ref=f"need:{need.pk}",
            hold=True,
        )
    except InsufficientBalance:
        raise _not_enough(need.elder, need.minutes_reserved) from None
    need.save(update_fields=["hold"])


def _release(need: Need, *, actor: User | None, reason: str) -> None:
    """Void the need's reservation hold, if it has one (inside the caller's transaction, the need locked)."""
    if need.hold_id is None:
        return
    hold = Transfer.objects.select_related("debit_account", "credit_account").get(pk=need.hold_id)
    ledger.hold_void(key=f"need-{need.pk}-release", pending=hold, actor=actor, reason=reason)


# --------------------------------------------------------------------------------------------- too short


def _least_minutes(coefficient: Decimal) -> int:
    """The fewest actual minutes that earn any hours for an item of ``coefficient`` under the rounding policy."""
    for minutes in range(1, 24 * 60):
        if ledger.credited_minutes(minutes, coefficient) > 0:
            return minutes
    return 24 * 60


def _too_short(visit: Visit) -> TooShort:
    coefficient = visit.need.item_version.coefficient
    return TooShort(minutes=visit.actual_minutes, least=_least_minutes(coefficient))


def _close_too_short(visit: Visit, need: Need, *, actor: User | None) -> None:
    """End a checked-out visit whose minutes round to no hours at all (inside the caller's transaction, the
    visit and its need locked): nothing moves in the ledger, the need is done, the hours reserved for it are
    released, and the elder is told (a visit of a few minutes could otherwise never be confirmed or paid)."""
    note = f"{visit.actual_minutes} min: too short to earn hours"
    _move_visit(visit, VS.TOO_SHORT, actor=actor, note=note)
    visit.credited_minutes = 0
    visit.save(update_fields=["status", "credited_minutes"])
    _move_need(need, NS.DONE, actor=actor, note=note)
    need.save(update_fields=["status"])
    _release(need, actor=actor, reason=note)
    # Written in the elder's language: no preference is stored for residents, so the site's default.
    with translation.override(settings.LANGUAGE_CODE):
        text = _(
            "The visit of %(volunteer)s on %(day)s lasted only %(minutes)s minutes, too short to earn hours, so "
            "nothing was paid for it. If you still need the service, please ask again or call your community "
            "station."
        ) % {
            "volunteer": visit.volunteer.name,
            "day": timezone.localtime(visit.check_in_at or timezone.now()).strftime("%Y-%m-%d"),
            "minutes": visit.actual_minutes,
        }
    notification_send(recipient=need.elder, topic="care.too_short", text=text)
