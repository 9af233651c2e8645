"""Star levels and honours: read them; a star level cannot be set (the same refusal the pages give).

A star level is counted from the recorded service (see docs/rewards.md); the API only reads it. The one
write path, ``POST .../star-level``, exists so that a partner system that tries to award stars gets the
documented refusal (``rewards.star_level_not_by_hand``) instead of an unknown address.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from timebank.people.selectors import residents_visible_to
from timebank.rewards import selectors, services
from timebank.rewards.models import Honour

from .auth import auth_for, caller
from .common import MAX_ID, In, Page, PageQuery, get_visible, id_path, page, responses

router = Router(tags=["star levels and honours"])


class StarLevelOut(Schema):
    resident_id: int
    stars: int = Field(..., ge=0, le=5, description="From recorded service, whatever the balance.")
    effective_stars: int = Field(..., description="0 while a falsification bar is in force.")
    recorded_hours: Decimal
    next_stars: int | None
    next_at_hours: int | None
    suspended_until: dt.date | None


@router.get(
    "/residents/{resident_id}/star-level",
    response=responses(StarLevelOut),
    auth=auth_for("read"),
    summary="A volunteer's star level (星级) from recorded service",
)
def star_level_get(request: HttpRequest, resident_id: int = id_path()) -> dict[str, Any]:
    resident = get_visible(residents_visible_to(caller(request)), resident_id)
    level = selectors.star_level(resident)
    return {
        "resident_id": resident.pk,
        "stars": level.stars,
        "effective_stars": level.effective_stars,
        "recorded_hours": level.hours,
        "next_stars": level.next_stars,
        "next_at_hours": level.next_hours,
        "suspended_until": level.suspended_until,
    }


class StarAwardIn(In):
    stars: int = Field(..., ge=0, le=5)


@router.post(
    "/residents/{resident_id}/star-level",
    response=responses(StarLevelOut),
    auth=auth_for("write"),
    summary="Refused: star levels are counted, never set by hand (rewards.star_level_not_by_hand)",
)
def star_level_award(request: HttpRequest, payload: StarAwardIn, resident_id: int = id_path()) -> dict[str, Any]:
    user = caller(request)
    resident = get_visible(residents_visible_to(user), resident_id)
    services.star_level_award(actor=user, resident=resident, stars=payload.stars)  # always refuses
    raise AssertionError("unreachable")  # pragma: no cover


class HonourOut(Schema):
    id: int
    kind: str = Field(..., examples=["excellent_volunteer"])
    title: str
    year: int
    citation: str
    person_id: int | None
    team_id: int | None
    town: str
    granted_at: dt.datetime
    withdrawn: bool

    @staticmethod
    def resolve_town(obj: Honour) -> str:
        return obj.town.name

    @staticmethod
    def resolve_withdrawn(obj: Honour) -> bool:
        return obj.withdrawn_at is not None


class HonourFilters(PageQuery):
    year: int | None = Field(None, ge=2000, le=2100)
    person_id: int | None = Field(None, ge=1, le=MAX_ID)
    kind: Literal["excellent_volunteer", "five_star", "award", "excellent_team"] | None = None


@router.get("/honours", response=responses(Page[HonourOut]), auth=auth_for("read"), summary="Honours in your area")
def honour_list(request: HttpRequest, filters: Query[HonourFilters]) -> dict[str, Any]:
    qs: QuerySet[Honour] = selectors.honours_visible_to(caller(request))
    if filters.year:
        qs = qs.filter(year=filters.year)
    if filters.person_id:
        qs = qs.filter(person_id=filters.person_id)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return page(qs.order_by("-year", "-granted_at", "-pk"), filters)
