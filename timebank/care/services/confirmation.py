"""Confirmation: the elder's side confirms and exactly one transfer pays the volunteer.

This is the busiest write of the city, so it is kept lean (tests fix its statement count): the visit is read
once, locked with its need, together with the few columns the confirmation and its answer use and who the
actor is for the elder (the scope check is part of that one query); the two audit events are one INSERT; the
visit and the need are one UPDATE each. Everything else is the ledger's posting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Case, CharField, Exists, F, OuterRef, Value, When
from django.db.models.lookups import StartsWith
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.care.errors import CannotConfirm, IllegalTransition
from timebank.care.models import CareEvent, Need, Visit
from timebank.certificates import events as webhook_events
from timebank.common.errors import NotFound
from timebank.ledger import services as ledger
from timebank.ledger.errors import InsufficientBalance
from timebank.ledger.models import Account
from timebank.people.models import Relationship, StaffRole
from timebank.places.models import Region

from ._common import NEED_MOVES, NS, VS, _close_too_short, _not_enough, _release, _too_short

if TYPE_CHECKING:
    from timebank.people.models import User

#: The columns the confirmation and the API's answer (VisitOut) read; nothing else is fetched.
_COLUMNS = (
    "id",
    "need_id",
    "volunteer_id",
    "status",
    "check_in_at",
    "check_in_method",
    "check_out_at",
    "actual_minutes",
    "credited_minutes",
    "confirmed_by_id",
    "confirmed_via",
    "confirmed_at",
    "transfer_id",
    "hold_id",
    "need__id",
    "need__elder_id",
    "need__item_id",
    "need__item_version_id",
    "need__region_id",
    "need__status",
    "need__payer",
    "need__window_start",
    "need__window_end",
    "need__hold_id",
    # what eligibility() reads when the elder's own hours or the pool pay, and the name for messages
    "need__elder__id",
    "need__elder__name",
    "need__elder__birth_date",
    "need__elder__active",
    "need__elder__barred_until",
    "need__elder__lives_alone",
    "need__elder__disability",
    "need__elder__low_income",
    "need__elder__lost_only_child",
    "need__elder__childless_widowed",
    "need__elder__home_region_id",
    "need__item__id",
    "need__item__code",
    "need__item__name",
    "need__item_version__id",
    "need__item_version__coefficient",
    "volunteer__id",
    "volunteer__name",
)


def _via_expression(actor: User) -> Case:
    """SQL for how ``actor`` may act for the visit's elder (the rule of ``_via``), NULL when not at all:
    the elder themself, a proxy (a live proxy relationship), or staff (not partner admins) whose area holds
    the elder's home."""
    whens = []
    if actor.resident_id is not None:
        whens.append(When(need__elder_id=actor.resident_id, then=Value(Need.Via.ELDER)))
        proxy = Relationship.objects.filter(
            resident_id=OuterRef("need__elder_id"), relative_id=actor.resident_id, is_proxy=True, ended_at__isnull=True
        )
        whens.append(When(Exists(proxy), then=Value(Need.Via.PROXY)))
    if actor.is_superuser:
        whens.append(When(pk__isnull=False, then=Value(Need.Via.STATION)))
    else:
        area = (
            StaffRole.objects.filter(user_id=actor.pk, active=True)
            .exclude(role=StaffRole.Role.PARTNER_ADMIN)
            .filter(StartsWith(OuterRef("need__elder__home_region__path"), F("region__path")))
        )
        whens.append(When(Exists(area), then=Value(Need.Via.STATION)))
    return Case(*whens, default=Value(None), output_field=CharField())


def _lock(actor: User, pk: int) -> Visit:
    """The visit and its need, locked, with the columns the confirmation uses and ``via`` (None: the actor
    may not confirm for this elder). One statement."""
    rows = list(
        Visit.objects.filter(pk=pk)
        .select_related("need__elder", "need__item", "need__item_version", "volunteer")
        .only(*_COLUMNS)
        .annotate(via=_via_expression(actor))
        .select_for_update(of=("self", "need"))
    )
    if not rows:
        raise NotFound()
    return rows[0]


def _pool_short(minutes: int) -> bool:
    """A look at the public pool before paying from it (one narrow read, no lock): the ledger decides on the
    locked row, and a pool emptied meanwhile is handled by the fallback in :func:`visit_confirm`."""
    available = (
        Account.objects.filter(code="pool")
        .values_list(F("credits_posted") - F("debits_posted") - F("debits_pending"), flat=True)
        .first()
    )
    return available is None or available < minutes


def visit_confirm(*, actor: User, visit: Visit | int) -> Visit:
    """The elder, a proxy or the station confirms: exactly one transfer pays the volunteer.

    Pressing confirm twice, or two people confirming at once, posts once: the visit row is locked and
    the ledger key is the visit's; a second confirmation returns the confirmed visit unchanged.
    ``visit`` may be the visit or its id (the API passes the id: the visit is then read only once).
    """
    pk = visit if isinstance(visit, int) else visit.pk
    with transaction.atomic():
        # The visit and its need are locked (the need moves to "done" below); the elder, the volunteer and the
        # catalogue rows are only read: locking them would queue every confirmation of the same item.
        locked = _lock(actor, pk)
        if actor.resident_id is not None and actor.resident_id == locked.volunteer_id:
            raise CannotConfirm()  # even as the elder's proxy or as station staff
        via: str | None = locked.via  # type: ignore[attr-defined]
        if via is None:
            raise CannotConfirm()
        if locked.status in (VS.CONFIRMED, VS.RATED):  # pressed again: it is done, nothing more happens
            return locked
        if locked.status == VS.TOO_SHORT:
            raise _too_short(locked)
        if locked.status != VS.CHECKED_OUT or locked.actual_minutes is None:
            raise IllegalTransition(thing=_("visit"), status=Visit.Status(locked.status).label)
        need = locked.need
        if NS.DONE not in NEED_MOVES.get(need.status, set()):
            raise IllegalTransition(thing=_("need"), status=Need.Status(need.status).label)
        minutes = ledger.credited_minutes(locked.actual_minutes, need.item_version.coefficient)
        if minutes == 0:  # checked out before short visits were closed at check-out: it ends now, unpaid
            _close_too_short(locked, need, actor=actor)
            return locked
        payer, note = need.payer, ""
        if payer == Need.Payer.POOL and _pool_short(minutes):
            # DOMAIN.md: a priority elder's visit is "paid for from the public pool or the government budget"
            payer, note = Need.Payer.GOVERNMENT, "; the public pool was short, the government paid"
        place = Region(pk=need.region_id)  # only its id is written (the transfer's place)

        def pay(payer: str) -> ledger.Credit:
            return ledger.service_credit(
                key=f"visit-{locked.pk}-credit",
                volunteer=locked.volunteer,
                payer=payer,
                elder=need.elder,
                minutes=minutes,
                actor=actor,
                memo=need.item.name,
                place=place,
                ref=f"visit:{locked.pk}",
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
        now = timezone.now()
        CareEvent.objects.bulk_create(
            [
                CareEvent(
                    need=need,
                    visit=locked,
                    from_status=locked.status,
                    to_status=VS.CONFIRMED,
                    actor=actor,
                    note=f"via {via}{note}"[:300],
                ),
                CareEvent(need=need, from_status=need.status, to_status=NS.DONE, actor=actor),
            ]
        )
        transfer = credit.transfer or credit.overflow
        Visit.objects.filter(pk=locked.pk).update(
            status=VS.CONFIRMED,
            credited_minutes=minutes,
            confirmed_by=actor,
            confirmed_via=via,
            confirmed_at=now,
            transfer=transfer,
        )
        Need.objects.filter(pk=need.pk).update(status=NS.DONE)
        locked.status, locked.credited_minutes, locked.confirmed_by = VS.CONFIRMED, minutes, actor
        locked.confirmed_via, locked.confirmed_at, locked.transfer = via, now, transfer
        need.status = NS.DONE
        webhook_events.visit_confirmed(locked)  # sent to partner systems on commit
    return locked
