"""Disputes: the hours are held until a social worker decides."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.care.errors import (
    BadPartPayment,
    BadPreference,
    IllegalTransition,
    ReasonRequired,
)
from timebank.care.models import (
    Dispute,
    Need,
    Visit,
)
from timebank.common.errors import OutOfScope
from timebank.ledger import services as ledger
from timebank.ledger.errors import InsufficientBalance
from timebank.people.selectors import can_manage_resident

if TYPE_CHECKING:
    from timebank.people.models import User
from ._common import NS, VS, _confirmer, _move_need, _move_visit, _not_enough, _payer_now, _release, _too_short


def visit_dispute(*, actor: User, visit: Visit, complaint: str) -> Dispute:
    """Instead of confirming, the elder's side complains: the hours are held until a social worker decides."""
    via = _confirmer(actor, visit)
    if not complaint.strip():
        raise ReasonRequired(field="complaint")
    with transaction.atomic():
        visit = (
            Visit.objects.select_for_update()
            .select_related("need__elder", "need__item_version", "volunteer")
            .get(pk=visit.pk)
        )
        if visit.status != VS.CHECKED_OUT or visit.actual_minutes is None:
            raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
        need = visit.need
        minutes = ledger.credited_minutes(visit.actual_minutes, need.item_version.coefficient)
        if minutes == 0:  # nothing is paid, so nothing to hold; a complaint goes with the rating
            raise _too_short(visit)
        _release(need, actor=actor, reason="held by the dispute instead")  # replaced by the dispute's hold
        try:
            held = ledger.service_credit(
                key=f"visit-{visit.pk}-hold",
                volunteer=visit.volunteer,
                payer=_payer_now(need, minutes)[0],
                elder=need.elder,
                minutes=minutes,
                actor=actor,
                memo=need.item.name,
                place=need.region,
                ref=f"visit:{visit.pk}",
                hold=True,
            )
        except InsufficientBalance:
            raise _not_enough(need.elder, minutes) from None
        _move_visit(visit, VS.DISPUTED, actor=actor, note=f"via {via}: {complaint}")
        visit.credited_minutes = minutes
        visit.hold = held.transfer
        visit.save(update_fields=["status", "credited_minutes", "hold"])
        return Dispute.objects.create(visit=visit, opened_by=actor, complaint=complaint.strip())


def dispute_resolve(*, actor: User, dispute: Dispute, outcome: str, reason: str, minutes: int | None = None) -> Dispute:
    """A social worker decides: pay in full ("post"), in part ("part", ``minutes``) or not at all ("void")."""
    visit = dispute.visit
    if not can_manage_resident(actor, visit.need.elder) or actor.resident_id in (
        visit.volunteer_id,
        visit.need.elder_id,
    ):
        raise OutOfScope()
    if not reason.strip():
        raise ReasonRequired(field="reason")
    if outcome not in Dispute.Outcome.values:
        raise BadPreference(field="outcome", value=outcome)
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
        visit = Visit.objects.select_for_update(of=("self",)).select_related("hold", "need").get(pk=dispute.visit_id)
        if dispute.outcome or visit.status != VS.DISPUTED or visit.hold is None:
            raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
        key = f"visit-{visit.pk}-resolve"
        held = visit.hold.amount
        if outcome == Dispute.Outcome.PART and (
            isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes < held
        ):  # None would pay in full, the full amount is "post", 0 is "void"
            raise BadPartPayment(field="minutes", held=held)
        if outcome == Dispute.Outcome.VOID:
            ledger.hold_void(key=key, pending=visit.hold, actor=actor, reason=reason)
            paid = 0
            _move_visit(visit, VS.VOIDED, actor=actor, note=reason)
        else:
            amount = None if outcome == Dispute.Outcome.POST else minutes
            credit = ledger.hold_post(key=key, pending=visit.hold, minutes=amount, actor=actor, reason=reason)
            paid = credit.minutes
            visit.transfer = credit.transfer or credit.overflow
            visit.credited_minutes = paid
            _move_visit(visit, VS.CONFIRMED, actor=actor, note=reason)
            visit.confirmed_by, visit.confirmed_via, visit.confirmed_at = actor, "station", timezone.now()
        visit.save(
            update_fields=["status", "transfer", "credited_minutes", "confirmed_by", "confirmed_via", "confirmed_at"]
        )
        need = Need.objects.select_for_update().get(pk=visit.need_id)
        if need.status == NS.ASSIGNED:
            _move_need(need, NS.DONE, actor=actor, note=outcome)
            need.save(update_fields=["status"])
        dispute.outcome, dispute.minutes_paid, dispute.resolution = outcome, paid, reason.strip()
        dispute.resolved_by, dispute.resolved_at = actor, timezone.now()
        dispute.save(update_fields=["outcome", "minutes_paid", "resolution", "resolved_by", "resolved_at"])
    return dispute
