"""Reads for certificates: the recorded service of a period (from the ledger), scope, public verification."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum

from timebank.ledger.models import Account, Transfer
from timebank.ledger.selectors import POSTED_PHASES
from timebank.people.models import Resident, StaffRole, User
from timebank.people.selectors import active_roles
from timebank.rewards.selectors import SERVICE_KINDS

from .models import VolunteerCertificate

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from paper
CODE_LENGTH = 20  # 20 × 5 bits = 100 random bits
_CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
STAFF_ROLES = (StaffRole.Role.SOCIAL_WORKER, StaffRole.Role.TOWN_ADMIN)


@dataclass(frozen=True)
class PeriodService:
    minutes: int
    content: str  # "助餐 3次、陪诊 2次"


def _service_credits(resident: Resident) -> QuerySet[Transfer]:
    accounts = Account.objects.filter(
        resident=resident, kind__in=[Account.Kind.PERSONAL, Account.Kind.GROUP_EARNED]
    ).values("pk")
    return Transfer.objects.filter(credit_account__in=accounts, kind__in=SERVICE_KINDS, phase__in=POSTED_PHASES)


def period_service(resident: Resident, start: dt.date, end: dt.date) -> PeriodService:
    """Service recorded in the ledger for ``resident`` from ``start`` to ``end`` (both included), minus the
    corrections (reversals) of those credits (the ledger kinds :data:`timebank.rewards.selectors.SERVICE_KINDS`)."""
    credits = _service_credits(resident).filter(created_at__date__gte=start, created_at__date__lte=end)
    received = credits.aggregate(s=Sum("amount"))["s"] or 0
    reversed_qs = Transfer.objects.filter(kind=Transfer.Kind.REVERSAL, reverses__in=credits.values("pk"))
    reversed_ = reversed_qs.aggregate(s=Sum("amount"))["s"] or 0
    gone = set(reversed_qs.values_list("reverses_id", flat=True))
    counts = Counter(
        (memo or "志愿服务") for pk, memo in credits.values_list("pk", "memo").order_by("created_at") if pk not in gone
    )
    content = "、".join(f"{what} {n}次" for what, n in counts.most_common())
    return PeriodService(max(0, received - reversed_), content[:400])


def volunteer_number(resident: Resident) -> str:
    """The time bank's own volunteer number (the national unified number replaces it when records move)."""
    return f"ZSTB{resident.pk:08d}"


def staff_role_for(user: User, volunteer: Resident) -> StaffRole | None:
    """The social-worker or town-admin role of ``user`` whose area holds ``volunteer``'s home, if any."""
    path = volunteer.home_region.path
    for role in active_roles(user):
        if role.role in STAFF_ROLES and path.startswith(role.region.path):
            return role
    return None


def may_handle(user: User, volunteer: Resident) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or staff_role_for(user, volunteer) is not None))


def certificates_for_staff(user: User) -> QuerySet[VolunteerCertificate]:
    """Certificates of volunteers living in the areas where ``user`` is a social worker or town admin."""
    qs = VolunteerCertificate.objects.select_related("volunteer__home_region")
    if user.is_superuser:
        return qs
    paths = [r.region.path for r in active_roles(user) if r.role in STAFF_ROLES]
    if not paths:
        return qs.none()
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(volunteer__home_region__path__startswith=path)
    return qs.filter(q)


def looks_like_code(code: str) -> bool:
    return bool(_CODE_RE.match(code or ""))


def certificate_by_code(code: str) -> VolunteerCertificate | None:
    """The certificate a verification code belongs to; None for anything malformed or unknown."""
    code = (code or "").strip()
    if not looks_like_code(code):
        return None
    return VolunteerCertificate.objects.select_related("volunteer").filter(code=code).first()


def certificates_visible_to(user: User) -> QuerySet[VolunteerCertificate]:
    """What ``user`` may see: certificates they handle as staff, and their own as a volunteer."""
    staff = certificates_for_staff(user).values("pk")
    own = Q(volunteer_id=user.resident_id) if user.is_authenticated and user.resident_id else Q(pk__in=[])
    return VolunteerCertificate.objects.select_related("volunteer__home_region").filter(Q(pk__in=staff) | own)
