"""The export: volunteer records by period and region, always within the reader's area.

Rows are plain dicts keyed by the column keys of :mod:`timebank.exchange.layout`. A service row comes from
a paid visit (confirmed or rated, including disputes decided with pay) or from an imported past record.
Period: the service's start, from ``start`` to ``end`` inclusive (local dates). Region: the volunteer's
home lies in the region's subtree. Scope: volunteers visible to the reader (people.selectors).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone, translation

from timebank.care.models import Dispute, Rating, Visit
from timebank.common.errors import NotAllowed
from timebank.people import idnumber
from timebank.people.masking import mask_phone
from timebank.people.models import Resident, User
from timebank.people.selectors import can_manage_resident, is_staff_member, residents_visible_to
from timebank.people.services import personal_data_view_record
from timebank.places.models import Region
from timebank.rewards.models import Honour
from timebank.rewards.selectors import barred_ids, service_minutes_of, stars_for, thresholds
from timebank.training.models import Certificate, Track

from .errors import BadPeriod
from .layout import ID_TYPE_RESIDENT, NO, SEX, YES, deployment_code, visit_record_no, volunteer_number_for_pk
from .models import ServiceRecord, VolunteerNumber

PAID = [Visit.Status.CONFIRMED, Visit.Status.RATED]


@dataclass(frozen=True)
class Period:
    start: dt.date | None = None
    end: dt.date | None = None

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        tz = timezone.get_current_timezone()
        low = dt.datetime.combine(self.start, dt.time(), tz) if self.start else None
        high = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tz) if self.end else None
        return low, high


def volunteer_numbers(pks: list[int]) -> dict[int, str]:
    """The volunteer number of each resident: the one another system gave, else the derived one."""
    stored = dict(VolunteerNumber.objects.filter(resident_id__in=pks).values_list("resident_id", "number"))
    return {pk: stored.get(pk) or volunteer_number_for_pk(pk) for pk in pks}


def volunteers_in(actor: User, *, region: Region | None = None) -> QuerySet[Resident]:
    if not is_staff_member(actor):
        raise NotAllowed()
    qs = residents_visible_to(actor)
    if region is not None:
        qs = qs.filter(home_region__path__startswith=region.path)
    return qs


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(moment).replace(second=0, microsecond=0) if moment else None


def service_rows(actor: User, *, period: Period | None = None, region: Region | None = None) -> list[dict[str, Any]]:
    """One row per service in the period, oldest first."""
    period = period or Period()
    if period.start and period.end and period.end < period.start:
        raise BadPeriod(field="to")
    people = volunteers_in(actor, region=region)
    low, high = period.bounds()
    visits = Visit.objects.filter(volunteer__in=people.values("pk"), status__in=PAID, transfer__isnull=False)
    records = ServiceRecord.objects.filter(volunteer__in=people.values("pk"))
    if low:
        visits, records = visits.filter(check_in_at__gte=low), records.filter(start__gte=low)
    if high:
        visits, records = visits.filter(check_in_at__lt=high), records.filter(start__lt=high)
    visits = visits.select_related("need__item", "need__region", "volunteer").prefetch_related("ratings")
    disputes = {d.visit_id: d for d in Dispute.objects.filter(visit__in=visits.values("pk"))}
    rows: list[dict[str, Any]] = []
    visit_list = list(visits)
    record_list = list(records.select_related("item", "region", "volunteer"))
    numbers = volunteer_numbers(sorted({v.volunteer_id for v in visit_list} | {r.volunteer_id for r in record_list}))
    code = deployment_code()
    for visit in visit_list:
        elder_rating = next((r for r in visit.ratings.all() if r.side == Rating.Side.ELDER), None)
        dispute = disputes.get(visit.pk)
        notes = []
        if elder_rating is not None and elder_rating.is_complaint:
            notes.append(elder_rating.comment or "")
        if dispute is not None:
            notes.append(dispute.complaint)
            if dispute.outcome:
                notes.append(f"{dispute.get_outcome_display()}：{dispute.resolution}")
        actual = visit.actual_minutes or 0
        rows.append(
            {
                "record_no": visit_record_no(visit.pk),
                "origin": code,
                "volunteer_no": numbers[visit.volunteer_id],
                "volunteer_name": visit.volunteer.name,
                "volunteer_id": visit.volunteer_id,
                "item_code": visit.need.item.code,
                "item_name": visit.need.item.name,
                "community_code": visit.need.region.code,
                "start": _local(visit.check_in_at),
                "end": _local(visit.check_out_at),
                "actual_minutes": actual,
                "service_hours": _hours(actual),
                "credited_minutes": visit.credited_minutes or 0,
                "rating": elder_rating.stars if elder_rating else None,
                "complaint": YES if (dispute is not None or (elder_rating and elder_rating.is_complaint)) else NO,
                "complaint_note": " / ".join(n for n in notes if n)[:500],
            }
        )
    for record in record_list:
        rows.append(
            {
                "record_no": record.record_no,
                "origin": record.origin,
                "volunteer_no": numbers[record.volunteer_id],
                "volunteer_name": record.volunteer.name,
                "volunteer_id": record.volunteer_id,
                "item_code": record.item.code,
                "item_name": record.item.name,
                "community_code": record.region.code,
                "start": _local(record.start),
                "end": _local(record.end),
                "actual_minutes": record.actual_minutes,
                "service_hours": _hours(record.actual_minutes),
                "credited_minutes": record.credited_minutes,
                "rating": record.rating,
                "complaint": YES if record.complaint else NO,
                "complaint_note": record.complaint_note,
            }
        )
    rows.sort(key=lambda r: (r["start"], r["record_no"]))
    return rows


def _training(certificates: list[Certificate]) -> str:
    parts = []
    for cert in certificates:
        with translation.override("zh-hans"):
            track = str(Track(cert.track).label)
        parts.append(f"{track} {cert.number} {cert.valid_from:%Y-%m-%d}~{cert.valid_until:%Y-%m-%d}")
    return "；".join(parts)


def _awards(stars: int, honours: list[Honour]) -> str:
    """ "3星级志愿者；2025年 优秀志愿者（石岐街道）": the star level, then honours newest first."""
    parts = [f"{stars}星级志愿者"] if stars else []
    for honour in sorted(honours, key=lambda h: (-h.year, h.title)):
        parts.append(f"{honour.year}年 {honour.title}（{honour.town.name}）")
    return "；".join(parts)


def volunteer_rows(
    actor: User,
    *,
    period: Period | None = None,
    region: Region | None = None,
    services: list[dict[str, Any]] | None = None,
    audit: bool = True,
) -> list[dict[str, Any]]:
    """One row per volunteer in the area (and anyone with a service in the period), with the period's
    summary. The full ID number and phone are given to staff who manage the person, and each such view is
    audited (people.services.personal_data_view_record); others (e.g. a partner organisation) get both masked."""
    if services is None:
        services = service_rows(actor, period=period, region=region)
    served = {r["volunteer_id"] for r in services}
    people = list(
        volunteers_in(actor, region=region)
        .filter(Q(is_volunteer=True) | Q(pk__in=served))
        .select_related("home_region")
        .order_by("pk")
    )
    numbers = volunteer_numbers([p.pk for p in people])
    by_person: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in services:
        by_person[row["volunteer_id"]].append(row)
    certificates: dict[int, list[Certificate]] = defaultdict(list)
    for cert in Certificate.objects.filter(holder__in=[p.pk for p in people], revoked_at__isnull=True).order_by(
        "valid_from", "number"
    ):
        certificates[cert.holder_id].append(cert)
    pks = [p.pk for p in people]
    minutes_served, barred, limits = service_minutes_of(pks), barred_ids(), thresholds()
    honours: dict[int, list[Honour]] = defaultdict(list)
    for honour in Honour.objects.filter(person__in=pks, withdrawn_at__isnull=True).select_related("town"):
        if honour.person_id is not None:
            honours[honour.person_id].append(honour)
    rows = []
    for person in people:
        mine = by_person.get(person.pk, [])
        rated = [r["rating"] for r in mine if r["rating"]]
        # 0 while barred after falsified hours (and then no honours either: they are suspended too)
        stars = 0 if person.pk in barred else stars_for(minutes_served.get(person.pk, 0), limits)
        full = audit and can_manage_resident(actor, person)
        if full:  # the national system needs both in full; the one audit row covers the export of both
            id_number = personal_data_view_record(viewer=actor, resident=person, purpose="exchange export")
        else:
            id_number = idnumber.mask(str(person.id_number))
        actual = sum(r["actual_minutes"] for r in mine)
        rows.append(
            {
                "volunteer_no": numbers[person.pk],
                "name": person.name,
                "id_type": ID_TYPE_RESIDENT,
                "id_number": id_number,
                "sex": SEX.get(person.sex, ""),
                "birth_date": person.birth_date,
                "phone": person.phone if full else mask_phone(person.phone),
                "community_code": person.home_region.code,
                "community": person.home_region.name,
                "services": len(mine),
                "actual_minutes": actual,
                "service_hours": _hours(actual),
                "credited_minutes": sum(r["credited_minutes"] for r in mine),
                "avg_rating": (Decimal(sum(rated)) / len(rated)).quantize(Decimal("0.01")) if rated else None,
                "complaints": sum(1 for r in mine if r["complaint"] == YES),
                "training": _training(certificates.get(person.pk, [])),
                "awards": _awards(stars, [] if person.pk in barred else honours.get(person.pk, [])),
            }
        )
    return rows
