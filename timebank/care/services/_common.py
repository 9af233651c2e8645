"""The state machine and the helpers every service shares (who acts for an elder, who pays)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from timebank.care.errors import (
    CannotConfirm,
    IllegalTransition,
    NotEnoughHours,
    NotTheirElder,
)
from timebank.care.models import (
    CareEvent,
    Need,
    Visit,
)
from timebank.ledger import selectors as ledger_selectors
from timebank.ledger import services as ledger
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
    VS.CHECKED_OUT: {VS.CONFIRMED, VS.DISPUTED},
    VS.DISPUTED: {VS.CONFIRMED, VS.VOIDED},
    VS.CONFIRMED: {VS.RATED},
    VS.RATED: set(),
    VS.VOIDED: set(),
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
