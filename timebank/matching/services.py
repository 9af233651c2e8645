"""Every write of matching: schedules, reach and preferences, and the daily dispatch proposals.

Accepting a proposal books each accepted row through :func:`timebank.care.services.visit_assign`, one
transaction per row, so the care rules (qualification, the volunteer's row lock, no double booking)
decide every assignment; rows the care rules refuse are reported with their reason, never forced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from timebank.care import services as care_services
from timebank.care.models import Item
from timebank.common.errors import DomainError, NotAllowed, OutOfScope
from timebank.people.models import Resident
from timebank.people.selectors import can_manage_region, can_manage_resident
from timebank.places.models import Region

from . import selectors
from .errors import BadDay, BadSchedule, NotAVolunteer, ProposalClosed, RowNotInProposal
from .models import Availability, AvailabilityException, DispatchProposal, MatchProfile, ProposalRow

if TYPE_CHECKING:
    from timebank.people.models import User

MAX_SLOTS_PER_WEEK = 28


def _may_edit(actor: User | None, volunteer: Resident) -> None:
    """The volunteer themselves, staff of their area, or the system (``actor=None``)."""
    if actor is None or actor.resident_id == volunteer.pk:
        return
    if not can_manage_resident(actor, volunteer):
        raise OutOfScope()


def _volunteer(volunteer: Resident) -> None:
    if not volunteer.is_volunteer:
        raise NotAVolunteer(field="volunteer", name=volunteer.name)


def _time(value: Any, name: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            pass
    raise BadSchedule(field=name, reason=f"{name}={value!r}")


def availability_set(
    *, actor: User | None, volunteer: Resident, slots: Iterable[tuple[int, dt.time | str, dt.time | str]]
) -> list[Availability]:
    """Replace the volunteer's weekly schedule with ``slots``: (weekday 0=Monday…6, from, until).

    Overlapping slots of one weekday are merged. An empty list clears the schedule (the volunteer is then
    never suggested, and the ranking says why).
    """
    _may_edit(actor, volunteer)
    _volunteer(volunteer)
    clean: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for count, slot in enumerate(slots, start=1):
        try:
            weekday, start, end = slot
        except (TypeError, ValueError):
            raise BadSchedule(field="slots", reason=repr(slot)) from None
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise BadSchedule(field="weekday", reason=_("the weekday must be 0 (Monday) to 6 (Sunday)"))
        s, e = _time(start, "start"), _time(end, "end")
        if e <= s:
            raise BadSchedule(field="end", reason=f"{s:%H:%M}-{e:%H:%M}")
        clean.setdefault(weekday, []).append((s, e))
        if count > MAX_SLOTS_PER_WEEK:
            raise BadSchedule(field="slots", reason=f"> {MAX_SLOTS_PER_WEEK}")
    rows = []
    for weekday, pairs in sorted(clean.items()):
        merged: list[tuple[dt.time, dt.time]] = []
        for s, e in sorted(pairs):
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        rows += [Availability(volunteer=volunteer, weekday=weekday, start=s, end=e) for s, e in merged]
    with transaction.atomic():
        Resident.objects.select_for_update().filter(pk=volunteer.pk).first()
        Availability.objects.filter(volunteer=volunteer).delete()
        return Availability.objects.bulk_create(rows)


def availability_exception_add(
    *,
    actor: User | None,
    volunteer: Resident,
    date: dt.date,
    available: bool,
    start: dt.time | str | None = None,
    end: dt.time | str | None = None,
    note: str = "",
) -> AvailabilityException:
    """Away on ``date`` (the whole day, or from ``start`` until ``end``), or an extra slot that day."""
    _may_edit(actor, volunteer)
    _volunteer(volunteer)
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise BadSchedule(field="date", reason=_("the date is not a calendar day"))
    s = _time(start, "start") if start is not None else None
    e = _time(end, "end") if end is not None else None
    if (s is None) != (e is None):
        raise BadSchedule(field="end", reason=_("give both the start and the end time, or neither"))
    if s is not None and e is not None and e <= s:
        raise BadSchedule(field="end", reason=f"{s:%H:%M}-{e:%H:%M}")
    if available and s is None:
        raise BadSchedule(field="start", reason=_("an extra time slot needs its start and end time"))
    with transaction.atomic():
        return AvailabilityException.objects.create(
            volunteer=volunteer, date=date, available=bool(available), start=s, end=e, note=note.strip()[:200]
        )


def match_profile_set(
    *,
    actor: User | None,
    volunteer: Resident,
    radius_m: Any = None,
    preferred_items: Iterable[Item | str] | None = None,
) -> MatchProfile:
    """Set how far the volunteer goes (``None``: the policy default) and, if given, their preferred items."""
    _may_edit(actor, volunteer)
    _volunteer(volunteer)
    radius = selectors.check_radius(radius_m) if radius_m is not None else None
    items: list[Item] | None = None
    if preferred_items is not None:
        items = []
        for value in preferred_items:
            if isinstance(value, str):
                found = Item.objects.filter(code=value).first()
                if found is None:
                    from timebank.care.errors import UnknownItem

                    raise UnknownItem(field="preferred_items")
                value = found
            items.append(value)
    with transaction.atomic():
        profile, _created = MatchProfile.objects.select_for_update().get_or_create(volunteer=volunteer)
        profile.radius_m = radius
        profile.save(update_fields=["radius_m", "updated_at"])
        if items is not None:
            profile.preferred_items.set(items)
    return profile


# --------------------------------------------------------------------------------------------- dispatch


def proposal_create(*, actor: User, region: Region, day: Any) -> DispatchProposal:
    """Propose volunteers for every open need of ``region`` (a station's community, a town …) on ``day``."""
    if not can_manage_region(actor, region):
        raise OutOfScope()
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise BadDay(field="day", reason=_("it is not a calendar day"))
    plan = selectors.plan_day(region, day)
    with transaction.atomic():
        proposal = DispatchProposal.objects.create(region=region, day=day, created_by=actor, summary=plan.summary)
        ProposalRow.objects.bulk_create(
            [
                ProposalRow(
                    proposal=proposal,
                    need=row.need,
                    volunteer_id=row.volunteer_id,
                    distance_m=row.distance_m,
                    cost=row.cost,
                    reasons=row.reasons,
                )
                for row in plan.rows
            ]
        )
    return proposal


def _draft(proposal: DispatchProposal) -> DispatchProposal:
    locked = DispatchProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != DispatchProposal.Status.DRAFT:
        raise ProposalClosed(status=DispatchProposal.Status(locked.status).label)
    return locked


_KEEP = object()


def proposal_row_change(
    *, actor: User, proposal: DispatchProposal, row: ProposalRow, volunteer: Any = _KEEP, included: bool | None = None
) -> ProposalRow:
    """The social worker changes a row: another volunteer (checked by the care rules now), none, or leaves it out."""
    if not can_manage_region(actor, proposal.region):
        raise OutOfScope()
    if row.proposal_id != proposal.pk:
        raise RowNotInProposal(field="row")
    need = row.need
    if volunteer is not _KEEP and volunteer is not None:
        if not isinstance(volunteer, Resident):
            raise NotAVolunteer(field="volunteer", name=str(volunteer))
        care_services.volunteer_check(volunteer, need)
    with transaction.atomic():
        _draft(proposal)
        row = ProposalRow.objects.select_for_update().get(pk=row.pk)
        fields = []
        if volunteer is not _KEEP:
            row.volunteer = volunteer
            row.changed_by_hand = True
            row.reasons = []
            row.cost = None
            row.distance_m = None
            if volunteer is not None and volunteer.lat is not None and volunteer.lon is not None:
                from timebank.places.geo import haversine_m

                row.distance_m = round(haversine_m(need.lat, need.lon, volunteer.lat, volunteer.lon))
                row.reasons = [["km", {"km": f"{row.distance_m / 1000:.1f}"}]]
            fields += ["volunteer", "changed_by_hand", "reasons", "cost", "distance_m"]
        if included is not None:
            row.included = bool(included)
            fields.append("included")
        if fields:
            row.save(update_fields=fields)
    return row


def proposal_discard(*, actor: User, proposal: DispatchProposal) -> DispatchProposal:
    if not can_manage_region(actor, proposal.region):
        raise OutOfScope()
    with transaction.atomic():
        locked = _draft(proposal)
        locked.status = DispatchProposal.Status.DISCARDED
        locked.save(update_fields=["status"])
    return locked


@dataclass
class Accepted:
    proposal: DispatchProposal
    assigned: list[ProposalRow] = field(default_factory=list)
    refused: list[ProposalRow] = field(default_factory=list)
    skipped: list[ProposalRow] = field(default_factory=list)


def proposal_accept(*, actor: User, proposal: DispatchProposal) -> Accepted:
    """Book every included row through the care services, each in its own transaction.

    The proposal is closed first (locked, once), so it cannot be accepted twice. A row the care rules
    refuse (the volunteer was booked meanwhile, the need was taken or cancelled, a certificate expired …)
    is marked refused with the care error's code and message; the other rows still go through.
    """
    if not can_manage_region(actor, proposal.region):
        raise NotAllowed()
    with transaction.atomic():
        locked = _draft(proposal)
        locked.status = DispatchProposal.Status.ACCEPTED
        locked.accepted_by = actor
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["status", "accepted_by", "accepted_at"])
    result = Accepted(locked)
    rows = ProposalRow.objects.filter(proposal=locked).select_related("need__elder", "need__item_version", "volunteer")
    for row in rows.order_by("need__window_start", "pk"):
        if not row.included or row.volunteer is None:
            row.outcome = ProposalRow.Outcome.SKIPPED
            row.save(update_fields=["outcome"])
            result.skipped.append(row)
            continue
        try:
            visit = care_services.visit_assign(actor=actor, need=row.need, volunteer=row.volunteer)
        except DomainError as exc:
            row.outcome = ProposalRow.Outcome.REFUSED
            row.refusal_code = exc.code[:48]
            row.message = exc.text[:300]
            row.save(update_fields=["outcome", "refusal_code", "message"])
            result.refused.append(row)
            continue
        row.outcome = ProposalRow.Outcome.ASSIGNED
        row.visit = visit
        row.save(update_fields=["outcome", "visit"])
        result.assigned.append(row)
    summary = dict(locked.summary)
    summary.update(assigned=len(result.assigned), refused=len(result.refused), skipped=len(result.skipped))
    DispatchProposal.objects.filter(pk=locked.pk).update(summary=summary)
    locked.summary = summary
    return result
