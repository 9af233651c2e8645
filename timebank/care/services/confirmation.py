"""Confirmation: the elder's side confirms and exactly one transfer pays the volunteer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.care.errors import (
    IllegalTransition,
)
from timebank.care.models import (
    Need,
    Visit,
)
from timebank.certificates import events as webhook_events
from timebank.ledger import services as ledger
from timebank.ledger.errors import InsufficientBalance

if TYPE_CHECKING:
    from timebank.people.models import User
from ._common import (
    NS,
    VS,
    _close_too_short,
    _confirmer,
    _move_need,
    _move_visit,
    _not_enough,
    _payer_now,
    _release,
    _too_short,
)


def visit_confirm(*, actor: User, visit: Visit) -> Visit:
    """The elder, a proxy or the station confirms: exactly one transfer pays the volunteer.

    Pressing confirm twice, or two people confirming at once, posts once: the visit row is locked and
    the ledger key is the visit's; a second confirmation returns the confirmed visit unchanged.
    """
    via = _confirmer(actor, visit)
    with transaction.atomic():
        # The visit and its need are locked (the need moves to "done" below); the elder, the volunteer and the
        # catalogue rows are only read: locking them would queue every confirmation of the same item.
        visit = (
            Visit.objects.select_for_update(of=("self", "need"))
            .select_related("need__elder", "need__item", "need__item_version", "need__region", "volunteer")
            .get(pk=visit.pk)
        )
        if visit.status in (VS.CONFIRMED, VS.RATED):  # pressed again: it is done, nothing more happens
            return visit
        if visit.status == VS.TOO_SHORT:
            raise _too_short(visit)
        if visit.status != VS.CHECKED_OUT or visit.actual_minutes is None:
            raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
        need = visit.need
        minutes = ledger.credited_minutes(visit.actual_minutes, need.item_version.coefficient)
        if minutes == 0:  # checked out before short visits were closed at check-out: it ends now, unpaid
            _close_too_short(visit, need, actor=actor)
            return visit
        payer, note = _payer_now(need, minutes)

        def pay(payer: str) -> ledger.Credit:
            return ledger.service_credit(
                key=f"visit-{visit.pk}-credit",
                volunteer=visit.volunteer,
                payer=payer,
                elder=need.elder,
                minutes=minutes,
                actor=actor,
                memo=need.item.name,
                place=need.region,
                ref=f"visit:{visit.pk}",
            )

        # The hours reserved at publication are released and spent in this one transaction: the redemption
        # below takes the actual credited minutes, which may be fewer or more than were reserved.
        _release(need, actor=actor, reason="paid by the visit's confirmation")
        try:
            credit = pay(payer)
        except InsufficientBalance:
            if payer != Need.Payer.POOL:
                raise _not_enough(need.elder, minutes) from None
            # The pool emptied between the look and the payment (the ledger locks it; we do not).
            payer, note = Need.Payer.GOVERNMENT, "; the public pool was short, the government paid"
            credit = pay(payer)
        _move_visit(visit, VS.CONFIRMED, actor=actor, note=f"via {via}{note}")
        visit.credited_minutes = minutes
        visit.confirmed_by = actor
        visit.confirmed_via = via
        visit.confirmed_at = timezone.now()
        visit.transfer = credit.transfer or credit.overflow
        visit.save(
            update_fields=["status", "credited_minutes", "confirmed_by", "confirmed_via", "confirmed_at", "transfer"]
        )
        webhook_events.visit_confirmed(visit)  # sent to partner systems on commit
        _move_need(need, NS.DONE, actor=actor)  # locked with the visit above
        need.save(update_fields=["status"])
    return visit
