"""The steps of a volunteer service certificate: 申请 → 受理 → 开具 → 公示, and refusing or revoking one.

Every service takes keyword arguments only, runs in one transaction with the certificate row locked, and
raises a :class:`timebank.common.errors.DomainError` with a stable code before anything is written.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from timebank.people.models import Resident, User
from timebank.rewards.selectors import service_minutes

from . import events
from .errors import AlreadyApplied, BadPeriod, IllegalStep, NoHours, NotAVolunteer, NotYourArea, ReasonNeeded
from .models import VolunteerCertificate
from .selectors import CODE_ALPHABET, CODE_LENGTH, may_handle, period_service, staff_role_for, volunteer_number

S = VolunteerCertificate.Status
ISSUER_BASE = "中山市时间银行"
MAX_PERIOD_YEARS = 10


def issuer_base() -> str:
    return getattr(settings, "CERTIFICATE_ISSUER", "") or ISSUER_BASE


def new_code() -> str:
    """A verification code: CODE_LENGTH characters drawn with ``secrets`` (100 random bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _locked(cert: VolunteerCertificate, *, allowed: tuple[str, ...]) -> VolunteerCertificate:
    cert = VolunteerCertificate.objects.select_for_update().select_related("volunteer__home_region").get(pk=cert.pk)
    if cert.status not in allowed:
        raise IllegalStep(status=S(cert.status).label)
    return cert


def _staff_check(actor: User, volunteer: Resident) -> None:
    if not may_handle(actor, volunteer):
        raise NotYourArea()


def certificate_apply(
    *, actor: User, volunteer: Resident, period_start: dt.date, period_end: dt.date, purpose: str = ""
) -> VolunteerCertificate:
    """申请: the volunteer (or staff whose area holds them, on their behalf) asks for a certificate."""
    if actor.resident_id != volunteer.pk and not may_handle(actor, volunteer):
        raise NotAVolunteer()
    if not volunteer.is_volunteer:
        raise NotAVolunteer()
    today = timezone.localdate()
    if period_start > period_end:
        raise BadPeriod(field="period_start", reason=_("the start is after the end"))
    if period_end > today:
        raise BadPeriod(field="period_end", reason=_("the end is in the future"))
    if period_start < today.replace(year=today.year - MAX_PERIOD_YEARS):
        raise BadPeriod(field="period_start", reason=_("more than {years} years ago").format(years=MAX_PERIOD_YEARS))
    with transaction.atomic():
        Resident.objects.select_for_update().filter(pk=volunteer.pk).first()  # one open application per period
        if VolunteerCertificate.objects.filter(
            volunteer=volunteer,
            period_start=period_start,
            period_end=period_end,
            status__in=[S.APPLIED, S.ACCEPTED],
        ).exists():
            raise AlreadyApplied()
        return VolunteerCertificate.objects.create(
            volunteer=volunteer,
            period_start=period_start,
            period_end=period_end,
            purpose=purpose.strip()[:200],
            applied_by=actor,
        )


def certificate_accept(*, actor: User, certificate: VolunteerCertificate) -> VolunteerCertificate:
    """受理: a social worker or town admin whose area holds the volunteer takes the application on."""
    _staff_check(actor, certificate.volunteer)
    with transaction.atomic():
        cert = _locked(certificate, allowed=(S.APPLIED,))
        cert.status, cert.accepted_by, cert.accepted_at = S.ACCEPTED, actor, timezone.now()
        cert.save(update_fields=["status", "accepted_by", "accepted_at"])
    return cert


def certificate_reject(*, actor: User, certificate: VolunteerCertificate, reason: str) -> VolunteerCertificate:
    """不予受理 / 不予开具: staff refuse an application (applied or accepted), with a reason."""
    _staff_check(actor, certificate.volunteer)
    if not reason.strip():
        raise ReasonNeeded(field="reason")
    with transaction.atomic():
        cert = _locked(certificate, allowed=(S.APPLIED, S.ACCEPTED))
        cert.status, cert.rejected_reason = S.REJECTED, reason.strip()[:200]
        cert.save(update_fields=["status", "rejected_reason"])
    return cert


def _issuer_name(actor: User, volunteer: Resident) -> str:
    role = staff_role_for(actor, volunteer)
    if role is None:
        return issuer_base()
    where = role.site.name if role.site_id and role.site else role.region.name
    return f"{issuer_base()}（{where}）"


def certificate_issue(*, actor: User, certificate: VolunteerCertificate) -> VolunteerCertificate:
    """开具: the hours of the period are read from the ledger now and frozen on the certificate, with a
    serial number and a random verification code. Partner systems hear ``certificate.issued`` on commit."""
    _staff_check(actor, certificate.volunteer)
    with transaction.atomic():
        cert = _locked(certificate, allowed=(S.ACCEPTED,))
        service = period_service(cert.volunteer, cert.period_start, cert.period_end)
        if service.minutes <= 0:
            raise NoHours()
        now = timezone.now()
        cert.status, cert.issued_by, cert.issued_at = S.ISSUED, actor, now
        cert.minutes, cert.content = service.minutes, service.content
        cert.total_minutes = service_minutes(cert.volunteer)
        cert.issuer_name = _issuer_name(actor, cert.volunteer)
        cert.volunteer_number = volunteer_number(cert.volunteer)
        cert.serial = f"ZSTB-{timezone.localdate(now).year}-{cert.pk:06d}"
        cert.code = new_code()
        cert.save()
        events.certificate_issued(cert)
    return cert


def certificate_publish(*, actor: User, certificate: VolunteerCertificate) -> VolunteerCertificate:
    """公示: the certificate can now be confirmed by anyone on the public verification page."""
    _staff_check(actor, certificate.volunteer)
    with transaction.atomic():
        cert = _locked(certificate, allowed=(S.ISSUED,))
        cert.status, cert.published_by, cert.published_at = S.PUBLISHED, actor, timezone.now()
        cert.save(update_fields=["status", "published_by", "published_at"])
    return cert


def certificate_revoke(*, actor: User, certificate: VolunteerCertificate, reason: str) -> VolunteerCertificate:
    """撤销: an issued or published certificate is withdrawn; the public page then says REVOKED."""
    _staff_check(actor, certificate.volunteer)
    if not reason.strip():
        raise ReasonNeeded(field="reason")
    with transaction.atomic():
        cert = _locked(certificate, allowed=(S.ISSUED, S.PUBLISHED))
        cert.status, cert.revoked_by, cert.revoked_at = S.REVOKED, actor, timezone.now()
        cert.revoked_reason = reason.strip()[:200]
        cert.save(update_fields=["status", "revoked_by", "revoked_at", "revoked_reason"])
    return cert
