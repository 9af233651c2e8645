"""On site: check-in with the elder's card and position, check-out with plausible times."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.care.errors import (
    IllegalTransition,
    ImplausibleTime,
    NotYourVisit,
    OutsideWindow,
    TooFar,
    TooManyCodeAttempts,
    WrongCode,
)
from timebank.care.models import (
    Need,
    Visit,
)
from timebank.common.selectors import policy_value
from timebank.ledger import services as ledger
from timebank.people.models import Resident
from timebank.people.selectors import can_manage_resident
from timebank.places.geo import haversine_m, valid_coordinates

if TYPE_CHECKING:
    from timebank.people.models import User
from ._common import VS, _close_too_short, _move_visit
from .elder_cards import _code_matches


def _check_position(need: Need, lat: float | None, lon: float | None) -> None:
    if lat is None and lon is None:
        return
    if not valid_coordinates(lat, lon):
        from timebank.places.errors import BadCoordinates

        raise BadCoordinates(field="lat")
    assert lat is not None and lon is not None
    limit = int(policy_value("care.checkin_max_distance_m"))
    distance = haversine_m(need.lat, need.lon, lat, lon)
    if distance > limit:
        raise TooFar(field="lat", distance=int(distance), limit=limit)


def _verify_code(visit: Visit, code: str) -> None:
    limit = int(policy_value("care.code_max_failures"))
    failures = Visit.objects.filter(pk=visit.pk).values_list("code_failures", flat=True).get()
    if failures >= limit:
        raise TooManyCodeAttempts()
    if not _code_matches(visit.need.elder, code):
        with transaction.atomic():  # counted in the row (F), so stale copies and parallel tries all count
            Visit.objects.filter(pk=visit.pk).update(code_failures=F("code_failures") + 1)
        visit.code_failures = failures + 1
        raise WrongCode(field="code")


def visit_check_in(
    *,
    actor: User,
    visit: Visit,
    code: str = "",
    lat: float | None = None,
    lon: float | None = None,
    at: dt.datetime | None = None,
) -> Visit:
    """The volunteer arrives: QR token or PIN from the elder's card, position checked when given.

    Station staff may check a volunteer in for an elder without a card (``code`` not needed).
    """
    moment = at or timezone.now()
    by_station = actor.resident_id != visit.volunteer_id
    if by_station and not can_manage_resident(actor, visit.need.elder):
        raise NotYourVisit()
    need = visit.need
    if visit.status != VS.ASSIGNED:
        raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
    if not need.window_start - dt.timedelta(hours=1) <= moment <= need.window_end:
        raise OutsideWindow(field="at")
    if not by_station:
        _verify_code(visit, code)
        _check_position(need, lat, lon)
    with transaction.atomic():
        Resident.objects.select_for_update().get(pk=visit.volunteer_id)
        visit = Visit.objects.select_for_update().select_related("need").get(pk=visit.pk)
        if Visit.objects.filter(volunteer_id=visit.volunteer_id, status=VS.CHECKED_IN).exclude(pk=visit.pk).exists():
            raise ImplausibleTime(reason=_("the volunteer is still checked in at another visit"))
        if (
            Visit.objects.filter(volunteer_id=visit.volunteer_id, check_in_at__lte=moment, check_out_at__gt=moment)
            .exclude(pk=visit.pk)
            .exists()
        ):  # otherwise the visit could never be checked out (every check-out would overlap)
            raise ImplausibleTime(field="at", reason=_("it overlaps another visit of the same volunteer"))
        _move_visit(visit, VS.CHECKED_IN, actor=actor, note="station" if by_station else "")
        visit.check_in_at = moment
        visit.check_in_method = "station" if by_station else ("pin" if code.strip().isdigit() else "qr")
        visit.check_in_lat, visit.check_in_lon = lat, lon
        visit.save(update_fields=["status", "check_in_at", "check_in_method", "check_in_lat", "check_in_lon"])
    return visit


def visit_check_out(
    *,
    actor: User,
    visit: Visit,
    lat: float | None = None,
    lon: float | None = None,
    at: dt.datetime | None = None,
) -> Visit:
    """The volunteer leaves. Refused when the times are not plausible (see the policies ``care.*``).

    A visit so short that its minutes round to no hours (under 15 minutes with the default half-hour steps)
    ends at once as "too short to earn hours": it could never be confirmed or paid, so it is closed here, the
    need is done, any own hours reserved for it are released and the elder is told (see ``_close_too_short``).
    The returned visit's status says which happened.
    """
    moment = at or timezone.now()
    by_station = actor.resident_id != visit.volunteer_id
    if by_station and not can_manage_resident(actor, visit.need.elder):
        raise NotYourVisit()
    if visit.status != VS.CHECKED_IN or visit.check_in_at is None:
        raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
    if moment <= visit.check_in_at:
        raise ImplausibleTime(field="at", reason=_("check-out must come after check-in"))
    if not by_station:
        _check_position(visit.need, lat, lon)
    minutes = int((moment - visit.check_in_at).total_seconds() // 60)
    if minutes < 1:
        raise ImplausibleTime(field="at", reason=_("the visit lasted less than a minute"))
    day_limit = int(policy_value("care.max_minutes_per_day"))
    with transaction.atomic():
        Resident.objects.select_for_update().get(pk=visit.volunteer_id)
        visit = Visit.objects.select_for_update().select_related("need").get(pk=visit.pk)
        overlapping = Visit.objects.filter(
            volunteer_id=visit.volunteer_id, check_in_at__lt=moment, check_out_at__gt=visit.check_in_at
        ).exclude(pk=visit.pk)
        if overlapping.exists():
            raise ImplausibleTime(field="at", reason=_("it overlaps another visit of the same volunteer"))
        day = timezone.localtime(visit.check_in_at).date()
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        from django.db.models import Sum

        served = (
            Visit.objects.filter(
                volunteer_id=visit.volunteer_id,
                check_in_at__gte=start,
                check_in_at__lt=start + dt.timedelta(days=1),
                actual_minutes__isnull=False,
            )
            .exclude(pk=visit.pk)
            .aggregate(s=Sum("actual_minutes"))["s"]
            or 0
        )
        if served + minutes > day_limit:
            raise ImplausibleTime(
                field="at", reason=_("more than %(h)s hours of service in one day") % {"h": day_limit // 60}
            )
        _move_visit(visit, VS.CHECKED_OUT, actor=actor)
        visit.check_out_at = moment
        visit.actual_minutes = minutes
        visit.save(update_fields=["status", "check_out_at", "actual_minutes"])
        if ledger.credited_minutes(minutes, visit.need.item_version.coefficient) == 0:
            _close_too_short(visit, visit.need, actor=actor)
    return visit
