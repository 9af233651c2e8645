"""Training certificates of residents in the caller's area."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Status

from timebank.people.selectors import residents_visible_to
from timebank.training import services
from timebank.training.models import Certificate

from .auth import auth_for, caller
from .common import MAX_ID, IdInt, In, Page, PageQuery, get_visible, page, responses
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
