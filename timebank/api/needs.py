"""Needs and visits: publish, apply, assign, check in and out, confirm, rate, dispute and resolve.

Every handler finds its need or visit among what the caller may see (``care.selectors``) and calls the
care service the pages call; the services decide who may do what.
"""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Status
from pydantic import AwareDatetime

from timebank.care import selectors, services
from timebank.care.errors import CannotConfirm
from timebank.care.models import Application, Dispute, Need, Rating, Visit
from timebank.common.errors import NotFound
from timebank.people.models import User
from timebank.people.selectors import residents_visible_to

from .auth import auth_for, caller
from .common import MAX_ID, IdInt, In, Page, PageQuery, get_visible, id_path, page, responses
from .schemas import ApplicationOut, DisputeOut, NeedOut, RatingOut, VisitOut

router = Router(tags=["needs and visits"])

NeedStatus = Literal["open", "assigned", "done", "cancelled", "expired", "guaranteed"]
VisitStatus = Literal[
    "assigned",
    "checked_in",
    "checked_out",
    "confirmed",
    "rated",
    "disputed",
    "cancelled",
    "no_show",
    "voided",
    "too_short",
]


def _need(user: User, need_id: int) -> Need:
    return get_visible(selectors.needs_visible_to(user), need_id)


def _visit(user: User, visit_id: int) -> Visit:
    return get_visible(selectors.visits_visible_to(user), visit_id)


# --------------------------------------------------------------------------------------------- needs


class NeedFilters(PageQuery):
    status: NeedStatus | None = None
    item: str | None = Field(None, pattern=r"^[A-Za-z0-9_\-]{1,32}$")
    elder_id: int | None = Field(None, ge=1, le=MAX_ID)
    starts_after: AwareDatetime | None = None
    starts_before: AwareDatetime | None = None


@router.get("/needs", response=responses(Page[NeedOut]), auth=auth_for("read"), summary="Needs")
def need_list(request: HttpRequest, filters: Query[NeedFilters]) -> dict[str, Any]:
    qs: QuerySet[Need] = selectors.needs_visible_to(caller(request))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.item:
        qs = qs.filter(item__code=filters.item)
    if filters.elder_id:
        qs = qs.filter(elder_id=filters.elder_id)
    if filters.starts_after:
        qs = qs.filter(window_start__gte=filters.starts_after)
    if filters.starts_before:
        qs = qs.filter(window_start__lt=filters.starts_before)
    return page(qs.order_by("window_start", "pk"), filters)


@router.get("/needs/{need_id}", response=responses(NeedOut), auth=auth_for("read"), summary="One need")
def need_get(request: HttpRequest, need_id: int = id_path()) -> Need:
    return _need(caller(request), need_id)


class NeedIn(In):
    elder_id: IdInt
    item: str = Field(..., pattern=r"^[A-Za-z0-9_\-]{1,32}$", examples=["chat"])
    window_start: AwareDatetime = Field(..., examples=["2026-03-02T09:00:00+08:00"])
    window_end: AwareDatetime = Field(..., examples=["2026-03-02T11:00:00+08:00"])
    notes: str = Field("", max_length=2000)
    pref_language: Literal["", "yue", "cmn", "other"] = ""
    pref_gender: Literal["", "M", "F"] = ""
    payer: Literal["own", "pool", "government"] | None = Field(
        None, description="Default: the public pool for priority elders, else the government."
    )
    weeks: int = Field(1, ge=1, le=12, description="Publish the same window weekly, this many times.")
    address: str | None = Field(None, max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


@router.post(
    "/needs", response=responses(list[NeedOut], 201), auth=auth_for("write"), summary="Publish a need (or weekly needs)"
)
def need_publish(request: HttpRequest, payload: NeedIn) -> Status[list[Need]]:
    user = caller(request)
    elder = get_visible(residents_visible_to(user), payload.elder_id)
    data = payload.model_dump(exclude={"elder_id"})
    needs = services.need_publish(actor=user, elder=elder, **data)
    return Status(
        201, list(selectors.needs_visible_to(user).filter(pk__in=[n.pk for n in needs]).order_by("window_start"))
    )


class ReasonIn(In):
    reason: str = Field(..., min_length=1, max_length=300, examples=["老人住院"])


@router.post("/needs/{need_id}/cancel", response=responses(NeedOut), auth=auth_for("write"), summary="Cancel a need")
def need_cancel(request: HttpRequest, payload: ReasonIn, need_id: int = id_path()) -> Need:
    user = caller(request)
    services.need_cancel(actor=user, need=_need(user, need_id), reason=payload.reason)
    return _need(user, need_id)


@router.post(
    "/needs/{need_id}/apply",
    response=responses(ApplicationOut, 201),
    auth=auth_for("write"),
    summary="Apply to serve an open need (a volunteer)",
)
def need_apply(request: HttpRequest, need_id: int = id_path()) -> Status[Application]:
    user = caller(request)
    # Open needs are offered to every volunteer (the volunteer pages list them too); others as scoped.
    visible = Need.objects.filter(Q(pk__in=selectors.needs_visible_to(user).values("pk")) | Q(status="open"))
    if user.resident_id is None or not user.resident or not user.resident.is_volunteer:
        visible = selectors.needs_visible_to(user)
    need = get_visible(visible.select_related("item_version", "elder"), need_id)
    return Status(201, services.application_apply(actor=user, need=need))


class AssignIn(In):
    volunteer_id: IdInt


@router.post(
    "/needs/{need_id}/assign", response=responses(VisitOut, 201), auth=auth_for("write"), summary="Dispatch a volunteer"
)
def need_assign(request: HttpRequest, payload: AssignIn, need_id: int = id_path()) -> Status[Visit]:
    user = caller(request)
    need = _need(user, need_id)
    volunteer = get_visible(residents_visible_to(user), payload.volunteer_id)
    visit = services.visit_assign(actor=user, need=need, volunteer=volunteer)
    return Status(201, _visit(user, visit.pk))


# --------------------------------------------------------------------------------------------- visits


class VisitFilters(PageQuery):
    status: VisitStatus | None = None
    volunteer_id: int | None = Field(None, ge=1, le=MAX_ID)
    need_id: int | None = Field(None, ge=1, le=MAX_ID)


@router.get("/visits", response=responses(Page[VisitOut]), auth=auth_for("read"), summary="Visits")
def visit_list(request: HttpRequest, filters: Query[VisitFilters]) -> dict[str, Any]:
    qs: QuerySet[Visit] = selectors.visits_visible_to(caller(request))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.volunteer_id:
        qs = qs.filter(volunteer_id=filters.volunteer_id)
    if filters.need_id:
        qs = qs.filter(need_id=filters.need_id)
    return page(qs.order_by("-need__window_start", "-pk"), filters)


@router.get("/visits/{visit_id}", response=responses(VisitOut), auth=auth_for("read"), summary="One visit")
def visit_get(request: HttpRequest, visit_id: int = id_path()) -> Visit:
    return _visit(caller(request), visit_id)


class CheckInIn(In):
    code: str = Field(
        "", max_length=64, description="The elder card's QR token or 6-digit PIN (station staff need none)."
    )
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


@router.post(
    "/visits/{visit_id}/check-in", response=responses(VisitOut), auth=auth_for("write"), summary="Check in (arrive)"
)
def visit_check_in(request: HttpRequest, payload: CheckInIn, visit_id: int = id_path()) -> Visit:
    user = caller(request)
    services.visit_check_in(actor=user, visit=_visit(user, visit_id), **payload.model_dump())
    return _visit(user, visit_id)


class PositionIn(In):
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


@router.post(
    "/visits/{visit_id}/check-out", response=responses(VisitOut), auth=auth_for("write"), summary="Check out (leave)"
)
def visit_check_out(request: HttpRequest, payload: PositionIn, visit_id: int = id_path()) -> Visit:
    user = caller(request)
    services.visit_check_out(actor=user, visit=_visit(user, visit_id), **payload.model_dump())
    return _visit(user, visit_id)


@router.post(
    "/visits/{visit_id}/confirm",
    response=responses(VisitOut),
    auth=auth_for("write"),
    summary="Confirm the visit (pays the volunteer once; repeating it changes nothing)",
)
def visit_confirm(request: HttpRequest, visit_id: int = id_path()) -> Visit:
    user = caller(request)
    try:  # by id: the service reads the visit once, locked, with the caller's right to confirm it
        return services.visit_confirm(actor=user, visit=visit_id)
    except CannotConfirm:
        _visit(user, visit_id)  # a visit the caller may not even see is not found (404), as everywhere else
        raise


class RatingIn(In):
    stars: int = Field(..., ge=1, le=5, examples=[5])
    tags: list[str] = Field([], max_length=8, examples=[["准时", "耐心"]])
    comment: str = Field("", max_length=2000)
    complaint: bool = False


@router.post(
    "/visits/{visit_id}/rate", response=responses(RatingOut, 201), auth=auth_for("write"), summary="Rate the other side"
)
def visit_rate(request: HttpRequest, payload: RatingIn, visit_id: int = id_path()) -> Status[Rating]:
    user = caller(request)
    return Status(201, services.visit_rate(actor=user, visit=_visit(user, visit_id), **payload.model_dump()))


class DisputeIn(In):
    complaint: str = Field(..., min_length=1, max_length=2000, examples=["志愿者提前离开"])


@router.post(
    "/visits/{visit_id}/dispute",
    response=responses(DisputeOut, 201),
    auth=auth_for("write"),
    summary="Complain instead of confirming (the hours are held)",
)
def visit_dispute(request: HttpRequest, payload: DisputeIn, visit_id: int = id_path()) -> Status[Dispute]:
    user = caller(request)
    return Status(201, services.visit_dispute(actor=user, visit=_visit(user, visit_id), complaint=payload.complaint))


class ResolveIn(In):
    outcome: Literal["post", "part", "void"] = Field(..., examples=["part"])
    reason: str = Field(..., min_length=1, max_length=2000, examples=["双方确认服务 40 分钟"])
    minutes: int | None = Field(None, ge=1, le=24 * 60, description="Only for a part payment.")


@router.post(
    "/visits/{visit_id}/dispute/resolve",
    response=responses(DisputeOut),
    auth=auth_for("write"),
    summary="Decide a dispute (a social worker)",
)
def dispute_resolve(request: HttpRequest, payload: ResolveIn, visit_id: int = id_path()) -> Dispute:
    user = caller(request)
    visit = _visit(user, visit_id)
    dispute = Dispute.objects.filter(visit=visit).first()
    if dispute is None:
        raise NotFound()
    return services.dispute_resolve(actor=user, dispute=dispute, **payload.model_dump())
