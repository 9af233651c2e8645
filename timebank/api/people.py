"""People: residents in the caller's area (the scope rule of ``people.selectors.residents_visible_to``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Status

from timebank.common.errors import NotFound
from timebank.people import audit, selectors, services
from timebank.people.models import Resident

from .auth import auth_for, caller
from .common import In, Page, PageQuery, get_visible, id_path, page, responses
from .schemas import EligibilityOut, ResidentOut

router = Router(tags=["people"])

Role = Literal["elder", "volunteer", "proxy"]


class ResidentFilters(PageQuery):
    q: str = Field("", max_length=64, description="ID number (exact), pinyin or initials, name, or phone digits.")
    role: Role | None = None
    community: str | None = Field(None, pattern=r"^\d{6,24}$", description="Home community's region code.")
    active: bool | None = None


@router.get("/residents", response=responses(Page[ResidentOut]), auth=auth_for("read"), summary="Residents")
def resident_list(request: HttpRequest, filters: Query[ResidentFilters]) -> dict[str, Any]:
    user = caller(request)
    qs: QuerySet[Resident] = selectors.residents_visible_to(user)
    if filters.q.strip():
        found = selectors.resident_search(user, filters.q, limit=filters.offset + filters.limit)
        qs = qs.filter(pk__in=[r.pk for r in found])
    if filters.role:
        qs = qs.filter(**{f"is_{filters.role}": True})
    if filters.community:
        qs = qs.filter(home_region__code=filters.community)
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    return page(qs.order_by("name_pinyin", "pk"), filters)


@router.get("/residents/{resident_id}", response=responses(ResidentOut), auth=auth_for("read"), summary="One resident")
def resident_get(request: HttpRequest, resident_id: int = id_path()) -> Resident:
    """One resident's record; a staff caller's read is recorded (``people.audit``) before it is answered."""
    user = caller(request)
    resident = get_visible(selectors.residents_visible_to(user), resident_id)
    audit.record_view_log(viewer=user, resident=resident, purpose="api: resident record")
    return resident


@router.get(
    "/residents/{resident_id}/eligibility",
    response=responses(EligibilityOut),
    auth=auth_for("read"),
    summary="What the resident may do today, with reasons",
)
def resident_eligibility(request: HttpRequest, resident_id: int = id_path()) -> dict[str, Any]:
    user = caller(request)
    resident = get_visible(selectors.residents_visible_to(user), resident_id)
    audit.record_view_log(viewer=user, resident=resident, purpose="api: resident eligibility")
    e = selectors.eligibility(resident)
    return {
        "age": e.age,
        "may_serve": e.may_serve,
        "is_priority": e.is_priority,
        "may_redeem": e.may_redeem,
        "may_be_elder": e.may_be_elder,
        "may_be_proxy": e.may_be_proxy,
        "serve_reasons": [str(r) for r in e.serve_reasons],
        "priority_reasons": [str(r) for r in e.priority_reasons],
    }


class ResidentIn(In):
    name: str = Field(..., min_length=1, max_length=64, examples=["何惠珍"])
    id_number: str = Field(..., min_length=1, max_length=24, examples=["44200019440312002X"])
    home_region: str = Field(
        ..., pattern=r"^\d{6,24}$", description="Community region code.", examples=["442000001001"]
    )
    phone: str = Field("", max_length=20, examples=["13800138000"])
    birth_date: dt.date | None = Field(None, description="Optional; must agree with the ID number.")
    languages: list[Literal["yue", "cmn", "other"]] = Field(["cmn"], max_length=3)
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    roles: list[Role] = Field([], max_length=3, examples=[["elder"]])
    lives_alone: bool = False
    disability: Literal["none", "semi", "full"] = "none"
    low_income: bool = False
    lost_only_child: bool = False
    childless_widowed: bool = False


@router.post("/residents", response=responses(ResidentOut, 201), auth=auth_for("write"), summary="Register a resident")
def resident_register(request: HttpRequest, payload: ResidentIn) -> Status[Resident]:
    user = caller(request)
    region = selectors.regions_visible_to(user).filter(code=payload.home_region).first()
    if region is None:
        raise NotFound(field="home_region")
    data = payload.model_dump()
    data.pop("home_region")
    resident = services.resident_register(actor=user, home_region=region, **data)
    return Status(201, Resident.objects.select_related("home_region").get(pk=resident.pk))
