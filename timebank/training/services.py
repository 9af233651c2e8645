"""Writes of training records: courses, sessions, enrolment with a waiting list, attendance, assessment,
certificates and annual targets.

Who may do what (the scope rule of people.selectors):
* courses (the city's catalogue): city supervisors only (adding one, stopping or resuming its offer);
* sessions, attendance, assessment: staff whose area holds the session's site (a social worker their
  station's community, a town administrator their town, a city supervisor everywhere; never partner admins);
* enrolment: the person themselves, or staff whose area holds the site (for people they can see);
* targets: a town administrator for their own town, a city supervisor for any town or the whole city.

Seats: nobody is ever enrolled beyond the session's seats. When the seats are taken a person joins the
waiting list (or, if they asked for a seat only — ``wait=False`` — is refused with ``training.session_full``);
staff cannot add anyone beyond the seats and cannot lower the seats below the number enrolled. The session
row is locked (``SELECT … FOR UPDATE``) for every change of its enrolments, and ``Session.enrolled_count``
has a CHECK against ``capacity``, so two people can never take the last seat together.

``at``/``on`` arguments are the moment of the action for tests and the demo's story; views leave them out.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.common.errors import NotAllowed, OutOfScope
from timebank.notify.services import notification_send
from timebank.people.models import Resident, StaffRole
from timebank.people.selectors import active_roles, can_manage_region, can_manage_resident, residents_visible_to
from timebank.places.models import Region, Site

from .errors import (
    AlreadyAssessed,
    AlreadyEnrolled,
    BadCapacity,
    BadCourse,
    BadPeriod,
    BadSchedule,
    BadScore,
    BadTarget,
    BadTargetRegion,
    BadTargetYear,
    BadTrack,
    CapacityBelowEnrolled,
    CourseInactive,
    DuplicateCertificate,
    EnrolmentCancelled,
    NotAttended,
    NotEnrolled,
    SessionClosed,
    SessionFull,
    SessionNotStarted,
    SiteInactive,
)
from .models import Certificate, Course, Enrolment, Session, Track, TrainingTarget

if TYPE_CHECKING:
    from timebank.people.models import User

ES = Enrolment.Status

#: Certificate numbers begin with the track's letters (养老 YL, 医护 YH, 居家 JZ, 母婴 MY).
PREFIX = {"elderly": "YL", "medical": "YH", "domestic": "JZ", "maternity": "MY"}


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (31 January + 1 month is the last day of February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --------------------------------------------------------------------------------------------- certificates


def _certificate_create(
    *, holder: Resident, track: str, number: str, valid_from: dt.date, valid_until: dt.date, issued_by: User | None
) -> Certificate:
    if track not in Track.values:
        raise BadTrack(field="track", value=track)
    if valid_until < valid_from:
        raise BadPeriod(field="valid_until")
    try:
        with transaction.atomic():
            return Certificate.objects.create(
                holder=holder,
                track=track,
                number=number.strip(),
                valid_from=valid_from,
                valid_until=valid_until,
                issued_by=issued_by,
            )
    except IntegrityError as exc:
        raise DuplicateCertificate(field="number") from exc


def certificate_issue(
    *, actor: User | None, holder: Resident, track: str, number: str, valid_from: dt.date, valid_until: dt.date
) -> Certificate:
    """Record a certificate (``actor=None``: the system, e.g. an import or the demo loader)."""
    if actor is not None and not can_manage_resident(actor, holder):
        raise OutOfScope()
    return _certificate_create(
        holder=holder, track=track, number=number, valid_from=valid_from, valid_until=valid_until, issued_by=actor
    )


# --------------------------------------------------------------------------------------------- courses


def _is_role(actor: User, *roles: str) -> bool:
    return bool(actor.is_superuser) or any(r.role in roles for r in active_roles(actor))


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def may_manage_courses(actor: User) -> bool:
    """Whether ``actor`` may add courses and stop or resume offering them: city supervisors (and superusers)."""
    return bool(actor.is_authenticated) and _is_role(actor, StaffRole.Role.CITY_SUPERVISOR)


TITLE_MAX = Course._meta.get_field("title").max_length or 120


def course_check(
    *,
    actor: User,
    track: str,
    title: str,
    teaching_minutes: int,
    validity_months: int,
    pass_score: int = 60,
) -> None:
    """The rules of :func:`course_create`, without writing: refuses what ``course_create`` would refuse
    (a page checks what was typed before its confirmation step)."""
    if not may_manage_courses(actor):
        raise NotAllowed()
    if track not in Track.values:
        raise BadTrack(field="track", value=track)
    title = (title or "").strip()
    if not title:
        raise BadCourse(field="title", reason=_("it needs a title"))
    if len(title) > TITLE_MAX:
        raise BadCourse(field="title", reason=_("the title is at most %(n)s characters") % {"n": TITLE_MAX})
    if not _whole(teaching_minutes) or teaching_minutes <= 0:
        raise BadCourse(field="teaching_minutes", reason=_("the teaching time must be more than zero"))
    if not _whole(validity_months) or not 1 <= validity_months <= 120:
        raise BadCourse(field="validity_months", reason=_("a certificate is valid for 1 to 120 months"))
    if not _whole(pass_score) or not 0 <= pass_score <= 100:
        raise BadCourse(field="pass_score", reason=_("the pass mark is between 0 and 100"))
    if Course.objects.filter(track=track, title=title).exists():
        raise BadCourse(field="title", reason=_("a course with this title already exists in the track"))


def course_create(
    *,
    actor: User,
    track: str,
    title: str,
    teaching_minutes: int,
    validity_months: int,
    description: str = "",
    pass_score: int = 60,
) -> Course:
    """Add a course to the city's catalogue (city supervisors only; the rules are :func:`course_check`'s)."""
    course_check(
        actor=actor,
        track=track,
        title=title,
        teaching_minutes=teaching_minutes,
        validity_months=validity_months,
        pass_score=pass_score,
    )
    try:
        with transaction.atomic():
            return Course.objects.create(
                track=track,
                title=title.strip(),
                description=(description or "").strip(),
                teaching_minutes=teaching_minutes,
                validity_months=validity_months,
                pass_score=pass_score,
                created_by=actor,
            )
    except IntegrityError as exc:  # the same title added at the same moment by someone else
        raise BadCourse(field="title", reason=_("a course with this title already exists in the track")) from exc


def course_set_active(*, actor: User, course: Course, active: bool) -> Course:
    """Stop offering a course (``active=False``) or offer it again (city supervisors only).

    A course that is not offered cannot get new sessions (``session_create`` refuses with
    ``training.course_inactive``) and nobody can join its sessions already planned (``enrolment_create``
    refuses the same way); those sessions are not cancelled, and attendance, results and certificates of
    the people already enrolled go on. Setting the state it already has changes nothing."""
    if not may_manage_courses(actor):
        raise NotAllowed()
    with transaction.atomic():
        locked = Course.objects.select_for_update().get(pk=course.pk)
        if locked.active != bool(active):
            locked.active = bool(active)
            locked.save(update_fields=["active"])
    return locked


# --------------------------------------------------------------------------------------------- sessions


def _check_site_scope(actor: User, site: Site) -> None:
    if not can_manage_region(actor, site.region):
        raise OutOfScope()


def session_create(
    *,
    actor: User,
    course: Course,
    site: Site,
    trainer: str,
    capacity: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> Session:
    """Plan a session of ``course`` at ``site`` (staff whose area holds the site)."""
    _check_site_scope(actor, site)
    if not course.active:
        raise CourseInactive(field="course")
    if not site.active:
        raise SiteInactive(field="site")
    if not _whole(capacity) or capacity <= 0:
        raise BadCapacity(field="capacity")
    if ends_at <= starts_at:
        raise BadSchedule(field="ends_at")
    trainer = (trainer or "").strip()
    if not trainer:
        raise BadCourse(field="trainer", reason=_("it needs a trainer"))
    with transaction.atomic():
        return Session.objects.create(
            course=course,
            site=site,
            trainer=trainer[:64],
            capacity=capacity,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=actor,
        )


def _locked(session: Session) -> Session:
    return Session.objects.select_for_update().select_related("course", "site__region").get(pk=session.pk)


def _promote(session: Session, *, moment: dt.datetime) -> list[Enrolment]:
    """Fill free seats from the waiting list, first come first served; tell each person. Session is locked."""
    free = session.capacity - session.enrolled_count
    if free <= 0:
        return []
    waiting = list(
        Enrolment.objects.select_for_update()
        .filter(session=session, status=ES.WAITING)
        .select_related("resident")
        .order_by("queued_at", "pk")[:free]
    )
    for enrolment in waiting:
        enrolment.status = ES.ENROLLED
        enrolment.enrolled_at = moment
        enrolment.save(update_fields=["status", "enrolled_at"])
        notification_send(
            recipient=enrolment.resident,
            topic="training.promoted",
            text=_("A seat became free: you are now enrolled in “%(course)s” at %(site)s on %(day)s.")
            % {
                "course": session.course.title,
                "site": session.site.name,
                "day": timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M"),
            },
        )
    if waiting:
        session.enrolled_count += len(waiting)
        session.save(update_fields=["enrolled_count"])
    return waiting


def session_set_capacity(*, actor: User, session: Session, capacity: int, at: dt.datetime | None = None) -> Session:
    """Change the number of seats. More seats enrol people from the waiting list in order; fewer seats than
    people enrolled is refused (``training.capacity_below_enrolled``): cancel enrolments first."""
    _check_site_scope(actor, session.site)
    if not _whole(capacity) or capacity <= 0:
        raise BadCapacity(field="capacity")
    moment = at or timezone.now()
    with transaction.atomic():
        locked = _locked(session)
        if locked.status != Session.Status.OPEN or locked.starts_at <= moment:
            raise SessionClosed()
        if capacity < locked.enrolled_count:
            raise CapacityBelowEnrolled(field="capacity", enrolled=locked.enrolled_count)
        locked.capacity = capacity
        locked.save(update_fields=["capacity"])
        _promote(locked, moment=moment)
    return locked


def session_cancel(*, actor: User, session: Session, reason: str, at: dt.datetime | None = None) -> Session:
    """Cancel a session that has not started; everyone enrolled or waiting is told."""
    _check_site_scope(actor, session.site)
    moment = at or timezone.now()
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = _locked(session)
        if locked.status != Session.Status.OPEN or locked.starts_at <= moment:
            raise SessionClosed()
        live = list(
            Enrolment.objects.select_for_update()
            .filter(session=locked, status__in=[ES.ENROLLED, ES.WAITING])
            .select_related("resident")
            .order_by("pk")
        )
        for enrolment in live:
            enrolment.status = ES.CANCELLED
            enrolment.cancelled_at = moment
            enrolment.save(update_fields=["status", "cancelled_at"])
            notification_send(
                recipient=enrolment.resident,
                topic="training.session_cancelled",
                text=_("The training “%(course)s” at %(site)s on %(day)s is cancelled. %(reason)s")
                % {
                    "course": locked.course.title,
                    "site": locked.site.name,
                    "day": timezone.localtime(locked.starts_at).strftime("%Y-%m-%d"),
                    "reason": reason,
                },
            )
        locked.status = Session.Status.CANCELLED
        locked.cancelled_at = moment
        locked.cancelled_reason = reason[:200]
        locked.enrolled_count = 0
        locked.save(update_fields=["status", "cancelled_at", "cancelled_reason", "enrolled_count"])
    return locked


# --------------------------------------------------------------------------------------------- enrolment


def _check_enrolment_actor(actor: User, session: Session, residents: list[Resident]) -> None:
    if actor.resident_id is not None and [r.pk for r in residents] == [actor.resident_id]:
        return  # people enrol themselves
    _check_site_scope(actor, session.site)
    visible = set(residents_visible_to(actor).filter(pk__in=[r.pk for r in residents]).values_list("pk", flat=True))
    if any(r.pk not in visible for r in residents):
        raise OutOfScope(field="resident")


def enrolment_create(
    *, actor: User, session: Session, resident: Resident, wait: bool = True, at: dt.datetime | None = None
) -> Enrolment:
    """Enrol ``resident``: a seat if one is free, else the end of the waiting list.

    ``wait=False`` asks for a seat only: when the seats are taken it is refused (``training.session_full``).
    """
    [enrolment] = enrolments_create(actor=actor, session=session, residents=[resident], wait=wait, at=at)
    return enrolment


def enrolments_create(
    *,
    actor: User,
    session: Session,
    residents: list[Resident],
    wait: bool = True,
    at: dt.datetime | None = None,
) -> list[Enrolment]:
    """Enrol several people in the order given (a class list from a station): free seats first, then the
    waiting list. All or nothing: one person already enrolled or waiting refuses the whole list, and with
    ``wait=False`` a list longer than the free seats is refused (``training.session_full``)."""
    _check_enrolment_actor(actor, session, residents)
    moment = at or timezone.now()
    with transaction.atomic():
        locked = _locked(session)
        if locked.status != Session.Status.OPEN or locked.starts_at <= moment:
            raise SessionClosed()
        if not locked.course.active:
            raise CourseInactive(field="session")
        taken = set(
            Enrolment.objects.filter(session=locked, resident__in=residents)
            .exclude(status=ES.CANCELLED)
            .values_list("resident_id", flat=True)
        )
        seen: set[int] = set()
        for resident in residents:
            if resident.pk in taken or resident.pk in seen:
                raise AlreadyEnrolled(field="resident", name=resident.name)
            seen.add(resident.pk)
        free = locked.capacity - locked.enrolled_count
        if not wait and len(residents) > free:
            raise SessionFull(field="session", capacity=locked.capacity)
        rows = [
            Enrolment(
                session=locked,
                resident=resident,
                status=ES.ENROLLED if i < free else ES.WAITING,
                queued_at=moment,
                enrolled_at=moment if i < free else None,
                added_by=actor,
            )
            for i, resident in enumerate(residents)
        ]
        created = Enrolment.objects.bulk_create(rows)
        seats = min(free, len(residents))
        if seats > 0:
            locked.enrolled_count += seats
            locked.save(update_fields=["enrolled_count"])
    return created


def enrolment_cancel(*, actor: User, enrolment: Enrolment, at: dt.datetime | None = None) -> Enrolment:
    """Leave a session (or its waiting list) before it starts. A freed seat goes to the first person waiting."""
    _check_enrolment_actor(actor, enrolment.session, [enrolment.resident])
    moment = at or timezone.now()
    with transaction.atomic():
        locked = _locked(enrolment.session)
        current = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if current.status == ES.CANCELLED:
            raise EnrolmentCancelled()
        if locked.status != Session.Status.OPEN or locked.starts_at <= moment:
            raise SessionClosed()
        had_seat = current.status == ES.ENROLLED
        current.status = ES.CANCELLED
        current.cancelled_at = moment
        current.save(update_fields=["status", "cancelled_at"])
        if had_seat:
            locked.enrolled_count -= 1
            locked.save(update_fields=["enrolled_count"])
            _promote(locked, moment=moment)
    return current


# --------------------------------------------------------------------------------------------- attendance


def _sheet(locked: Session, residents: list[Resident]) -> dict[int, Enrolment]:
    """The enrolled rows of ``residents``, locked; anyone not enrolled is refused (nothing written)."""
    rows = {
        e.resident_id: e
        for e in Enrolment.objects.select_for_update().filter(
            session=locked, status=ES.ENROLLED, resident_id__in=[r.pk for r in residents]
        )
    }
    for resident in residents:
        if resident.pk not in rows:
            raise NotEnrolled(field="resident", name=resident.name)
    return rows


def attendance_record(
    *, actor: User, session: Session, attendance: Mapping[Resident, bool], at: dt.datetime | None = None
) -> int:
    """Record who was present (True) or absent (False). Only enrolled people; only once the session has
    started; an assessed person's attendance no longer changes. Returns the number of rows recorded."""
    _check_site_scope(actor, session.site)
    moment = at or timezone.now()
    with transaction.atomic():
        locked = _locked(session)
        if locked.status != Session.Status.OPEN:
            raise SessionClosed()
        if locked.starts_at > moment:
            raise SessionNotStarted()
        rows = _sheet(locked, list(attendance))
        changed = []
        for resident, present in attendance.items():
            row = rows[resident.pk]
            if row.passed is not None:
                if row.attended != bool(present):
                    raise AlreadyAssessed(field="resident", name=resident.name)
                continue
            row.attended = bool(present)
            changed.append(row)
        Enrolment.objects.bulk_update(changed, ["attended"])
    return len(changed)


def _certificate_number(session: Session, resident: Resident, track: str, day: dt.date) -> str:
    """``YL-2026-`` and ten characters derived from the session (site, start, course) and the person: the same
    facts give the same number on any database (no row ids), different people or sessions different ones."""
    facts = f"{session.site.code}|{session.starts_at.isoformat()}|{session.course.title}|{resident.id_hash}"
    digest = hashlib.sha256(facts.encode()).hexdigest()[:10].upper()
    return f"{PREFIX[track]}-{day.year}-{digest}"


def assessment_record(
    *,
    actor: User,
    session: Session,
    scores: Mapping[Resident, int],
    on: dt.date | None = None,
    at: dt.datetime | None = None,
) -> list[Enrolment]:
    """Record scores (0–100) of people who attended. A score at or above the course's pass mark is a pass,
    and a pass issues a certificate valid from ``on`` (today) until ``on`` + the course's validity in months.
    Each person is assessed once. All or nothing."""
    _check_site_scope(actor, session.site)
    moment = at or timezone.now()
    day = on or timezone.localdate(moment)
    with transaction.atomic():
        locked = _locked(session)
        if locked.status != Session.Status.OPEN:
            raise SessionClosed()
        if locked.starts_at > moment:
            raise SessionNotStarted()
        for score in scores.values():
            if not _whole(score) or not 0 <= score <= 100:
                raise BadScore(field="score")
        rows = _sheet(locked, list(scores))
        course = locked.course
        done = []
        for resident, score in scores.items():
            row = rows[resident.pk]
            if row.attended is not True:
                raise NotAttended(field="resident", name=resident.name)
            if row.passed is not None:
                raise AlreadyAssessed(field="resident", name=resident.name)
            row.score = score
            row.passed = score >= course.pass_score
            row.assessed_on = day
            done.append(row)
        passes = [row for row in done if row.passed]
        certificates = [
            Certificate(
                holder_id=row.resident_id,
                track=course.track,
                number=_certificate_number(locked, row.resident, course.track, day),
                valid_from=day,
                valid_until=add_months(day, course.validity_months),
                issued_by=actor,
            )
            for row in passes
        ]
        try:
            with transaction.atomic():
                Certificate.objects.bulk_create(certificates)
        except IntegrityError as exc:
            raise DuplicateCertificate(field="number") from exc
        for row, certificate in zip(passes, certificates, strict=True):
            row.certificate = certificate
        Enrolment.objects.bulk_update(done, ["score", "passed", "assessed_on", "certificate"])
    return done


# --------------------------------------------------------------------------------------------- targets


def target_set(*, actor: User, year: int, track: str, region: Region | None, count: int) -> TrainingTarget:
    """Set how many people should pass ``track`` training in ``year`` in a town (``region``) or, with
    ``region=None``, the whole city. Setting it again replaces the number."""
    if not _is_role(actor, StaffRole.Role.CITY_SUPERVISOR, StaffRole.Role.TOWN_ADMIN):
        raise NotAllowed()
    if track not in Track.values:
        raise BadTrack(field="track", value=track)
    if not _whole(year) or not 2000 <= year <= 2100:
        raise BadTargetYear(field="year")
    if not _whole(count) or count < 0:
        raise BadTarget(field="count")
    if region is None:
        if not _is_role(actor, StaffRole.Role.CITY_SUPERVISOR):
            raise OutOfScope(field="region")
    else:
        if region.level != Region.Level.TOWN:
            raise BadTargetRegion(field="region")
        if not can_manage_region(actor, region):
            raise OutOfScope(field="region")
    with transaction.atomic():
        target, _created = TrainingTarget.objects.update_or_create(
            year=year, track=track, region=region, defaults={"count": count, "set_by": actor}
        )
    return target
