"""Reads for a person's rights over their data (docs/privacy.md): correction requests in a staff member's queue."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import CorrectionRequest, Resident, StaffRole, User
from .selectors import active_roles


def correction_requests_of(resident: Resident) -> QuerySet[CorrectionRequest]:
    return CorrectionRequest.objects.filter(resident=resident).order_by("-created_at", "-pk")


def correction_requests_answerable_by(user: User) -> QuerySet[CorrectionRequest]:
    """Requests of people whose home lies in the area of one of ``user``'s roles (not partner admins: they
    never manage residents' records). The same rule as ``can_manage_resident``."""
    qs = CorrectionRequest.objects.select_related("resident__home_region", "decided_by")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    q = Q(pk__in=[])
    for role in active_roles(user):
        if role.role != StaffRole.Role.PARTNER_ADMIN:
            q |= Q(resident__home_region__path__startswith=role.region.path)
    return qs.filter(q)


def correction_queue(user: User) -> QuerySet[CorrectionRequest]:
    """The open requests ``user`` may answer, oldest first."""
    return (
        correction_requests_answerable_by(user)
        .filter(status=CorrectionRequest.Status.OPEN)
        .order_by("created_at", "pk")
    )


def may_answer_corrections(user: User) -> bool:
    return bool(user.is_authenticated) and (
        bool(user.is_superuser) or any(r.role != StaffRole.Role.PARTNER_ADMIN for r in active_roles(user))
    )
