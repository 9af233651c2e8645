"""Training: certificates of residents in the caller's area; sessions, enrolment with a waiting list,
attendance, assessment (a pass issues the certificate) and progress against the year's targets."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from timebank.common.errors import InvalidInput, NotFound
from timebank.people.models import Resident, User
from timebank.people.selectors import residents_visible_to
from timebank.training import selectors, services
from timebank.training.errors import NotEnrolled
from timebank.training.models import Certificate, Enrolment, Session

from .auth import auth_for, caller
from .common import MAX_ID, IdInt, In, Page, PageQuery, get_visible, id_path, page, responses
from .schemas import CertificateOut

router = Router(tags=["training"])

Track = Literal["maternity", "domestic", "elderly", "medical"]


class CertificateFilters(PageQuery):
    holder_id: int | None = Field(None, ge=1, le=MAX_ID)
    track: Track | None = None
    valid_on: dt.date | None = Field(None, description="Only certificates valid (and not revoked) on this day.")


@router.get("/certificates", response=responses(Page[CertificateOut]), auth=auth_for("read"), summary="Certificates")
def certificate_list(request: HttpRequest, filters: Query[CertificateFilters]) -> dict[str, Any]:
    visible = residents_visible_to(caller(request)).values("pk")
    qs: QuerySet[Certificate] = Certificate.objects.filter(holder__in=visible).select_related("holder")
    if filters.holder_id:
        qs = qs.filter(holder_id=filters.holder_id)
    if filters.track:
        qs = qs.filter(track=filters.track)
    if filters.valid_on:
        qs = qs.filter(valid_from__lte=filters.valid_on, valid_until__gte=filters.valid_on, revoked_at__isnull=True)
    return page(qs.order_by("-valid_until", "pk"), filters)


class CertificateIn(In):
    holder_id: IdInt
    track: Track = Field(..., examples=["elderly"])
    number: str = Field(..., min_length=1, max_length=40, examples=["ZS-EC-2026-0001"])
    valid_from: dt.date
    valid_until: dt.date


@router.post(
    "/certificates", response=responses(CertificateOut, 201), auth=auth_for("write"), summary="Record a certificate"
)
def certificate_issue(request: HttpRequest, payload: CertificateIn) -> Status[Certificate]:
    user = caller(request)
    holder = get_visible(residents_visible_to(user), payload.holder_id)
    cert = services.certificate_issue(actor=user, holder=holder, **payload.model_dump(exclude={"holder_id"}))
    return Status(201, Certificate.objects.select_related("holder").get(pk=cert.pk))


# --------------------------------------------------------------------------------------------- sessions


class SessionOut(Schema):
    id: int
    course_id: int
    course: str = Field(..., examples=["居家养老护理基础"])
    track: str = Field(..., examples=["elderly"])
    site_id: int
    site: str
    trainer: str
    capacity: int
    enrolled: int
    waiting: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str = Field(..., examples=["open"])

    @staticmethod
    def resolve_course(obj: Session) -> str:
        return obj.course.title

    @staticmethod
    def resolve_track(obj: Session) -> str:
        return obj.course.track

    @staticmethod
    def resolve_site(obj: Session) -> str:
        return obj.site.name

    @staticmethod
    def resolve_enrolled(obj: Session) -> int:
        return obj.enrolled_count

    @staticmethod
    def resolve_waiting(obj: Session) -> int:
        return int(getattr(obj, "waiting_count", 0) or 0)


class EnrolmentOut(Schema):
    id: int
    session_id: int
    resident_id: int
    resident_name: str
    status: str = Field(..., examples=["waiting"])
    waiting_position: int | None = Field(..., description="1 for the first person waiting; null otherwise.")
    attended: bool | None
    score: int | None
    passed: bool | None
    certificate_id: int | None

    @staticmethod
    def resolve_resident_name(obj: Enrolment) -> str:
        return obj.resident.name

    @staticmethod
    def resolve_waiting_position(obj: Enrolment) -> int | None:
        return selectors.waiting_position(obj)


def _sessions(user: User) -> QuerySet[Session]:
    """Sessions the caller manages, and every session anyone can still join."""
    managed = selectors.sessions_visible_to(user).values("pk")
    joinable = Q(status=Session.Status.OPEN, starts_at__gt=timezone.now(), course__active=True)
    waiting = Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.WAITING))
    return (
        Session.objects.filter(Q(pk__in=managed) | joinable)
        .select_related("course", "site")
        .annotate(waiting_count=waiting)
    )


def _managed_session(user: User, session_id: int) -> Session:
    return get_visible(selectors.sessions_visible_to(user).select_related("course", "site"), session_id)


class SessionFilters(PageQuery):
    track: Track | None = None
    status: Literal["open", "cancelled"] | None = None
    starts_after: AwareDatetime | None = None


@router.get("/sessions", response=responses(Page[SessionOut]), auth=auth_for("read"), summary="Training sessions")
def session_list(request: HttpRequest, filters: Query[SessionFilters]) -> dict[str, Any]:
    qs = _sessions(caller(request))
    if filters.track:
        qs = qs.filter(course__track=filters.track)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.starts_after:
        qs = qs.filter(starts_at__gte=filters.starts_after)
    return page(qs.order_by("starts_at", "pk"), filters)


@router.get("/sessions/{session_id}", response=responses(SessionOut), auth=auth_for("read"), summary="One session")
def session_get(request: HttpRequest, session_id: int = id_path()) -> Session:
    return get_visible(_sessions(caller(request)), session_id)


class EnrolIn(In):
    resident_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Whom to enrol (staff, for a person of their area); yourself if left out."
    )
    wait: bool = Field(True, description="Join the waiting list when every seat is taken (else refused).")


@router.post(
    "/sessions/{session_id}/enrolments",
    response=responses(EnrolmentOut, 201),
    auth=auth_for("write"),
    summary="Enrol (a seat, or the end of the waiting list)",
)
def enrolment_create(request: HttpRequest, payload: EnrolIn, session_id: int = id_path()) -> Status[Enrolment]:
    user = caller(request)
    session = get_visible(_sessions(user), session_id)
    if payload.resident_id is None or payload.resident_id == user.resident_id:
        if user.resident is None:
            raise NotFound(field="resident_id")
        resident = user.resident
    else:
        resident = get_visible(residents_visible_to(user), payload.resident_id)
    enrolment = services.enrolment_create(actor=user, session=session, resident=resident, wait=payload.wait)
    return Status(201, enrolment)


@router.get(
    "/sessions/{session_id}/enrolments",
    response=responses(list[EnrolmentOut]),
    auth=auth_for("read"),
    summary="A session's class list and waiting list (staff of its site's area)",
)
def session_enrolments(request: HttpRequest, session_id: int = id_path()) -> list[Enrolment]:
    return selectors.session_enrolments(_managed_session(caller(request), session_id))


@router.get("/enrolments", response=responses(list[EnrolmentOut]), auth=auth_for("read"), summary="My trainings")
def my_enrolments(request: HttpRequest) -> list[Enrolment]:
    user = caller(request)
    if user.resident is None:
        return []
    return [e for e, _position in selectors.my_enrolments(user.resident)]


@router.post(
    "/enrolments/{enrolment_id}/cancel",
    response=responses(EnrolmentOut),
    auth=auth_for("write"),
    summary="Leave a session or its waiting list (the first person waiting gets the seat)",
)
def enrolment_cancel(request: HttpRequest, enrolment_id: int = id_path()) -> Enrolment:
    user = caller(request)
    managed = selectors.sessions_visible_to(user).values("pk")
    own = Q(resident_id=user.resident_id) if user.resident_id else Q(pk__in=[])
    visible = Enrolment.objects.filter(own | Q(session__in=managed)).select_related("session__site", "resident")
    return services.enrolment_cancel(actor=user, enrolment=get_visible(visible, enrolment_id))


class RecordedOut(Schema):
    count: int = Field(..., description="How many rows were recorded (assessed people's rows stay as they were).")


class AttendanceRow(In):
    resident_id: IdInt
    present: bool


class AttendanceIn(In):
    rows: list[AttendanceRow] = Field(..., min_length=1, max_length=500)


class ScoreRow(In):
    resident_id: IdInt
    score: int = Field(..., ge=0, le=100)


class AssessmentIn(In):
    rows: list[ScoreRow] = Field(..., min_length=1, max_length=500)


def _people(session: Session, ids: list[int]) -> dict[int, Resident]:
    """The people named on a sheet, each once; anyone not on the session's list is refused by the service."""
    if len(set(ids)) != len(ids):
        raise InvalidInput(field="rows")
    found = {r.pk: r for r in Resident.objects.filter(pk__in=ids, enrolments__session=session).distinct()}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise NotEnrolled(field="rows", name=f"#{missing[0]}")
    return found


@router.post(
    "/sessions/{session_id}/attendance",
    response=responses(RecordedOut),
    auth=auth_for("write"),
    summary="Record who was present (enrolled people only, once the session has started)",
)
def attendance_record(request: HttpRequest, payload: AttendanceIn, session_id: int = id_path()) -> dict[str, int]:
    user = caller(request)
    session = _managed_session(user, session_id)
    people = _people(session, [r.resident_id for r in payload.rows])
    sheet = {people[r.resident_id]: r.present for r in payload.rows}
    return {"count": services.attendance_record(actor=user, session=session, attendance=sheet)}


@router.post(
    "/sessions/{session_id}/assessment",
    response=responses(list[EnrolmentOut]),
    auth=auth_for("write"),
    summary="Record scores; a pass issues the certificate at once",
)
def assessment_record(request: HttpRequest, payload: AssessmentIn, session_id: int = id_path()) -> list[Enrolment]:
    user = caller(request)
    session = _managed_session(user, session_id)
    people = _people(session, [r.resident_id for r in payload.rows])
    scores = {people[r.resident_id]: r.score for r in payload.rows}
    return services.assessment_record(actor=user, session=session, scores=scores)


class ProgressQuery(In):
    year: int | None = Field(None, ge=2000, le=2100, description="This year if left out.")


class ProgressOut(Schema):
    town_code: str | None = Field(..., description="null: the whole city.")
    town: str | None
    track: str
    target: int | None
    passed: int
    percent: int | None


@router.get(
    "/progress",
    response=responses(list[ProgressOut]),
    auth=auth_for("read"),
    summary="People trained this year against the targets, per track (city) and per town of your area",
)
def progress(request: HttpRequest, filters: Query[ProgressQuery]) -> list[dict[str, Any]]:
    city, towns = selectors.training_progress(caller(request), filters.year or timezone.localdate().year)
    return [
        {
            "town_code": p.region.code if p.region else None,
            "town": p.region.name if p.region else None,
            "track": p.track,
            "target": p.target,
            "passed": p.passed,
            "percent": p.percent,
        }
        for p in [*city, *towns]
    ]
