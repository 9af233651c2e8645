"""Reads of training records, always through the reader's scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from timebank.common.selectors import policy_value
from timebank.people.models import Resident, StaffRole, User
from timebank.people.selectors import active_roles, residents_visible_to
from timebank.places.geo import haversine_m
from timebank.places.models import Region

from .models import Certificate, Course, Enrolment, Session, Track, TrainingTarget

ES = Enrolment.Status


def valid_certificates(resident: Resident, *, on: dt.date | None = None) -> QuerySet[Certificate]:
    day = on or timezone.localdate()
    return Certificate.objects.filter(
        holder=resident, valid_from__lte=day, valid_until__gte=day, revoked_at__isnull=True
    )


def holds_valid_certificate(resident: Resident, track: str, *, on: dt.date | None = None) -> bool:
    return valid_certificates(resident, on=on).filter(track=track).exists()


def other_certificates(resident: Resident, *, on: dt.date | None = None) -> list[tuple[Certificate, str]]:
    """The resident's certificates that are not valid on ``on``, newest first, each with why:
    "withdrawn", "not_yet" or "expired"."""
    day = on or timezone.localdate()
    valid = valid_certificates(resident, on=day).values("pk")
    result = []
    for cert in Certificate.objects.filter(holder=resident).exclude(pk__in=valid).order_by("-valid_until"):
        why = "withdrawn" if cert.revoked_at else ("not_yet" if cert.valid_from > day else "expired")
        result.append((cert, why))
    return result


# --------------------------------------------------------------------------------------------- expiry


def expiry_warning_days(*, on: dt.date | None = None) -> int:
    """Certificates ending within this many days are listed as expiring (policy ``training.expiry_warning_days``)."""
    return int(policy_value("training.expiry_warning_days", on=on))


def _expiring(qs: QuerySet[Certificate], day: dt.date, days: int) -> QuerySet[Certificate]:
    return qs.filter(
        valid_from__lte=day,
        valid_until__gte=day,
        valid_until__lte=day + dt.timedelta(days=days),
        revoked_at__isnull=True,
    ).order_by("valid_until", "pk")


def certificates_expiring(
    resident: Resident, *, on: dt.date | None = None, days: int | None = None
) -> QuerySet[Certificate]:
    """The resident's valid certificates that end within ``days`` (the policy by default), soonest first."""
    day = on or timezone.localdate()
    return _expiring(
        Certificate.objects.filter(holder=resident), day, expiry_warning_days(on=day) if days is None else days
    )


def certificates_expiring_visible_to(
    user: User, *, on: dt.date | None = None, days: int | None = None
) -> QuerySet[Certificate]:
    """Valid certificates of people in ``user``'s area that end within ``days``, soonest first."""
    day = on or timezone.localdate()
    qs = Certificate.objects.filter(holder__in=residents_visible_to(user).values("pk")).select_related(
        "holder__home_region"
    )
    return _expiring(qs, day, expiry_warning_days(on=day) if days is None else days)


# --------------------------------------------------------------------------------------------- sessions


def _managed_q(user: User, prefix: str) -> Q | None:
    """A Q on ``{prefix}path`` for the regions ``user`` manages (partner admins manage none); None: all."""
    if user.is_superuser:
        return None
    q = Q(pk__in=[])
    for role in active_roles(user):
        if role.role != StaffRole.Role.PARTNER_ADMIN:
            q |= Q(**{f"{prefix}path__startswith": role.region.path})
    return q


def sessions_visible_to(user: User) -> QuerySet[Session]:
    """Sessions at sites in the areas ``user`` manages (what staff may list, open and change)."""
    qs = Session.objects.select_related("course", "site__region")
    q = _managed_q(user, "site__region__")
    return qs if q is None else qs.filter(q)


def courses_offered() -> QuerySet[Course]:
    return Course.objects.filter(active=True).order_by("track", "title")


def course_catalogue(*, now: dt.datetime | None = None) -> QuerySet[Course]:
    """Every course, offered or not, by track and title, each with ``coming``: its open sessions not yet
    started (sessions a course keeps when it stops being offered)."""
    moment = now or timezone.now()
    coming = Count("sessions", filter=Q(sessions__status=Session.Status.OPEN, sessions__starts_at__gt=moment))
    return Course.objects.annotate(coming=coming).order_by("track", "title")


def open_sessions_near(
    resident: Resident, *, now: dt.datetime | None = None, limit: int = 30
) -> list[tuple[Session, float | None]]:
    """Sessions one can still join (open, not started, course offered), nearest to the resident's home
    first (metres; None when the home has no coordinates), then soonest."""
    moment = now or timezone.now()
    sessions = list(
        Session.objects.filter(status=Session.Status.OPEN, starts_at__gt=moment, course__active=True)
        .select_related("course", "site__region")
        .order_by("starts_at", "pk")[:500]
    )
    rows: list[tuple[Session, float | None]] = []
    for s in sessions:
        metres = None
        if resident.lat is not None and resident.lon is not None:
            metres = haversine_m(resident.lat, resident.lon, s.site.lat, s.site.lon)
        rows.append((s, metres))
    rows.sort(key=lambda r: (r[1] if r[1] is not None else 0.0, r[0].starts_at))
    return rows[:limit]


def waiting_position(enrolment: Enrolment) -> int | None:
    """1 for the first person waiting, …; None when not waiting."""
    if enrolment.status != ES.WAITING:
        return None
    ahead = (
        Enrolment.objects.filter(session_id=enrolment.session_id, status=ES.WAITING)
        .filter(Q(queued_at__lt=enrolment.queued_at) | Q(queued_at=enrolment.queued_at, pk__lt=enrolment.pk))
        .count()
    )
    return ahead + 1


def waiting_list(session: Session) -> list[Enrolment]:
    return list(
        Enrolment.objects.filter(session=session, status=ES.WAITING)
        .select_related("resident")
        .order_by("queued_at", "pk")
    )


def my_enrolments(resident: Resident) -> list[tuple[Enrolment, int | None]]:
    """The resident's enrolments that are not cancelled, newest session first, each with the waiting position."""
    rows = (
        Enrolment.objects.filter(resident=resident)
        .exclude(status=ES.CANCELLED)
        .select_related("session__course", "session__site", "certificate")
        .order_by("-session__starts_at", "pk")
    )
    return [(e, waiting_position(e)) for e in rows]


def session_enrolments(session: Session) -> list[Enrolment]:
    """Enrolled people then the waiting list in order (cancelled ones left out)."""
    rows = list(
        Enrolment.objects.filter(session=session)
        .exclude(status=ES.CANCELLED)
        .select_related("resident", "certificate")
        .order_by("queued_at", "pk")
    )
    return [e for e in rows if e.status == ES.ENROLLED] + [e for e in rows if e.status == ES.WAITING]


# --------------------------------------------------------------------------------------------- progress


@dataclass
class Progress:
    """People who passed in a track and year, against the target (None when no target is set)."""

    region: Region | None  # None: the whole city
    track: str
    target: int | None
    passed: int

    @property
    def percent(self) -> int | None:
        if self.target is None:
            return None
        if self.target == 0:
            return 100
        return round(100 * self.passed / self.target)

    @property
    def bar(self) -> int:
        return min(self.percent or 0, 100)

    @property
    def track_label(self) -> str:
        return str(Track(self.track).label)


def _town_code(path: str) -> str | None:
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) >= 2 else None


def training_progress(user: User, year: int) -> tuple[list[Progress], list[Progress]]:
    """Progress per track: the whole city (for city supervisors; otherwise empty) and per town in ``user``'s
    area. ``passed`` counts distinct people who passed an assessment in ``year`` in sessions at the town's
    sites (a person who passed twice in a track counts once)."""
    towns = Region.objects.filter(level=Region.Level.TOWN).order_by("code")
    q = _managed_q(user, "")
    if q is not None:
        # a social worker's area is a community: show its town
        paths = [r.region.path for r in active_roles(user) if r.role != StaffRole.Role.PARTNER_ADMIN]
        codes = {_town_code(p) for p in paths}
        whole_city = any(len(p.strip("/").split("/")) == 1 for p in paths)
        if not whole_city:
            towns = towns.filter(code__in=[c for c in codes if c])
    town_list = list(towns)
    by_code = {t.code: t for t in town_list}
    passed: dict[tuple[str, str], set[int]] = {}
    rows = (
        Enrolment.objects.filter(passed=True, assessed_on__year=year)
        .values_list("session__site__region__path", "session__course__track", "resident_id")
        .distinct()
    )
    city_passed: dict[str, set[int]] = {}
    for path, track, resident_id in rows:
        city_passed.setdefault(track, set()).add(resident_id)
        code = _town_code(path)
        if code in by_code:
            passed.setdefault((code, track), set()).add(resident_id)
    targets = {
        (t.region_id, t.track): t.count
        for t in TrainingTarget.objects.filter(year=year).only("region", "track", "count")
    }
    city_rows: list[Progress] = []
    if q is None or any(r.role == StaffRole.Role.CITY_SUPERVISOR for r in active_roles(user)):
        city_rows = [
            Progress(None, track, targets.get((None, track)), len(city_passed.get(track, set())))
            for track in Track.values
        ]
    town_rows = [
        Progress(town, track, targets.get((town.pk, track)), len(passed.get((town.code, track), set())))
        for town in town_list
        for track in Track.values
    ]
    return city_rows, town_rows


def target_for(year: int, track: str, region: Region | None) -> TrainingTarget | None:
    return TrainingTarget.objects.filter(year=year, track=track, region=region).first()
