"""Volunteer service certificates (志愿服务证明): 申请 → 受理 → 开具 → 公示, and revoking.

A volunteer applies for their own certificate (or staff for them); social workers and town administrators
whose area holds the volunteer accept, refuse, issue (the hours are read from the ledger and frozen),
publish and revoke. Everyone sees their own; staff see those of their area; others get 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from timebank.certificates import services
from timebank.certificates.links import verify_url
from timebank.certificates.models import VolunteerCertificate
from timebank.certificates.selectors import certificates_visible_to
from timebank.people.models import User
from timebank.people.selectors import residents_visible_to

from .auth import auth_for, caller
from .common import MAX_ID, IdInt, In, Page, PageQuery, get_visible, id_path, page, responses

router = Router(tags=["volunteer service certificates"])

CertStatus = Literal["applied", "accepted", "rejected", "issued", "published", "revoked"]


class ServiceCertificateOut(Schema):
    id: int
    volunteer_id: int
    volunteer_name: str
    period_start: dt.date
    period_end: dt.date
    purpose: str
    status: str = Field(..., examples=["published"])
    applied_at: dt.datetime
    accepted_at: dt.datetime | None
    rejected_reason: str
    issued_at: dt.datetime | None
    serial: str | None = Field(..., examples=["ZSTB-2026-000042"])
    minutes: int | None = Field(..., description="Service minutes of the period, frozen when issued.")
    total_minutes: int | None = Field(..., description="All recorded service minutes when issued.")
    content: str
    issuer_name: str
    volunteer_number: str
    published_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_reason: str
    verify_url: str | None = Field(..., description="The public page the certificate's QR code points to.")

    @staticmethod
    def resolve_volunteer_name(obj: VolunteerCertificate) -> str:
        return obj.volunteer.name

    @staticmethod
    def resolve_verify_url(obj: VolunteerCertificate, context: dict[str, Any]) -> str | None:
        return verify_url(obj.code, context.get("request")) if obj.code else None


def _certificate(user: User, pk: int) -> VolunteerCertificate:
    return get_visible(certificates_visible_to(user), pk)


class CertificateFilters(PageQuery):
    status: CertStatus | None = None
    volunteer_id: int | None = Field(None, ge=1, le=MAX_ID)


@router.get("", response=responses(Page[ServiceCertificateOut]), auth=auth_for("read"), summary="Service certificates")
def certificate_list(request: HttpRequest, filters: Query[CertificateFilters]) -> dict[str, Any]:
    qs: QuerySet[VolunteerCertificate] = certificates_visible_to(caller(request))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.volunteer_id:
        qs = qs.filter(volunteer_id=filters.volunteer_id)
    return page(qs.order_by("-applied_at", "-pk"), filters)


@router.get(
    "/{certificate_id}", response=responses(ServiceCertificateOut), auth=auth_for("read"), summary="One certificate"
)
def certificate_get(request: HttpRequest, certificate_id: int = id_path()) -> VolunteerCertificate:
    return _certificate(caller(request), certificate_id)


class ApplyIn(In):
    volunteer_id: IdInt
    period_start: dt.date = Field(..., examples=["2026-01-01"])
    period_end: dt.date = Field(..., examples=["2026-06-30"])
    purpose: str = Field("", max_length=200, examples=["升学材料"])


@router.post(
    "",
    response=responses(ServiceCertificateOut, 201),
    auth=auth_for("write"),
    summary="Apply (申请) for a certificate of service in a period",
)
def certificate_apply(request: HttpRequest, payload: ApplyIn) -> Status[VolunteerCertificate]:
    user = caller(request)
    visible = residents_visible_to(user).filter(Q(pk=user.resident_id) | Q(is_volunteer=True))
    volunteer = get_visible(visible, payload.volunteer_id)
    cert = services.certificate_apply(actor=user, **payload.model_dump(exclude={"volunteer_id"}), volunteer=volunteer)
    return Status(201, cert)


class ReasonIn(In):
    reason: str = Field(..., min_length=1, max_length=200, examples=["服务记录与申请期间不符"])


def _step(summary: str) -> dict[str, Any]:
    return {"response": responses(ServiceCertificateOut), "auth": auth_for("write"), "summary": summary}


@router.post("/{certificate_id}/accept", **_step("Accept (受理) an application"))
def certificate_accept(request: HttpRequest, certificate_id: int = id_path()) -> VolunteerCertificate:
    user = caller(request)
    return services.certificate_accept(actor=user, certificate=_certificate(user, certificate_id))


@router.post("/{certificate_id}/reject", **_step("Refuse an application, with a reason"))
def certificate_reject(
    request: HttpRequest, payload: ReasonIn, certificate_id: int = id_path()
) -> VolunteerCertificate:
    user = caller(request)
    return services.certificate_reject(
        actor=user, certificate=_certificate(user, certificate_id), reason=payload.reason
    )


@router.post("/{certificate_id}/issue", **_step("Issue (开具): the period's hours are read from the ledger"))
def certificate_issue(request: HttpRequest, certificate_id: int = id_path()) -> VolunteerCertificate:
    user = caller(request)
    return services.certificate_issue(actor=user, certificate=_certificate(user, certificate_id))


@router.post("/{certificate_id}/publish", **_step("Publish (公示): the public page confirms it"))
def certificate_publish(request: HttpRequest, certificate_id: int = id_path()) -> VolunteerCertificate:
    user = caller(request)
    return services.certificate_publish(actor=user, certificate=_certificate(user, certificate_id))


@router.post("/{certificate_id}/revoke", **_step("Revoke an issued certificate, with a reason"))
def certificate_revoke(
    request: HttpRequest, payload: ReasonIn, certificate_id: int = id_path()
) -> VolunteerCertificate:
    user = caller(request)
    return services.certificate_revoke(
        actor=user, certificate=_certificate(user, certificate_id), reason=payload.reason
    )
