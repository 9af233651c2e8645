"""Reads about people, always through the reader's scope.

Scope rule: a staff member sees and changes only residents whose home lies in the subtree of one of
their roles' regions. Partner-organisation admins see volunteers only (never elders' records). Residents
with a login see themselves and the people they are linked to. Superusers see everything.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from timebank.common.models import PolicyValue
from timebank.common.selectors import policy_value
from timebank.common.text import interpolate_lazy
from timebank.places.models import Region

from . import idnumber
from .models import Relationship, Resident, StaffRole, User


def active_roles(user: User) -> list[StaffRole]:
    if not user.is_authenticated:
        return []
    cached: list[StaffRole] | None = getattr(user, "_active_roles", None)
    if cached is None:
        cached = list(StaffRole.objects.filter(user=user, active=True).select_related("region", "site"))
        user._active_roles = cached  # type: ignore[attr-defined]
    return cached


def is_staff_member(user: User) -> bool:
    return bool(user.is_superuser or active_roles(user))


def is_city_supervisor(user: User) -> bool:
    return bool(user.is_superuser) or any(r.role == StaffRole.Role.CITY_SUPERVISOR for r in active_roles(user))


def may_use_admin(user: User) -> bool:
    """Who may use the Django admin at ``/admin/``: operators (superusers) and city supervisors.

    Both see the whole city, so nothing a read-only admin form shows (every field, every related row) lies
    outside their area. Everyone else works on the pages, which apply their area rules (``docs/operators.md``).
    """
    if not (user.is_authenticated and user.is_active):
        return False
    return is_city_supervisor(user)


def _scope_q(user: User, prefix: str) -> Q | None:
    """A Q on ``{prefix}path`` for the user's regions; None means everything (superuser)."""
    if user.is_superuser:
        return None
    q = Q(pk__in=[])
    for role in active_roles(user):
        q |= Q(**{f"{prefix}path__startswith": role.region.path})
    return q


def can_manage_region(user: User, region: Region) -> bool:
    if user.is_superuser:
        return True
    return any(
        region.path.startswith(r.region.path) and r.role != StaffRole.Role.PARTNER_ADMIN for r in active_roles(user)
    )


def residents_visible_to(user: User) -> QuerySet[Resident]:
    """Every resident ``user`` may see. Enforced here so that pages, admin and API share one rule."""
    qs = Resident.objects.select_related("home_region")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    roles = active_roles(user)
    if roles:
        q = Q(pk__in=[])
        for role in roles:
            area = Q(home_region__path__startswith=role.region.path)
            if role.role == StaffRole.Role.PARTNER_ADMIN:
                area &= Q(is_volunteer=True)
            q |= area
        return qs.filter(q)
    if user.resident_id:
        linked = Relationship.objects.filter(resident_id=user.resident_id, ended_at__isnull=True).values("relative_id")
        return qs.filter(Q(pk=user.resident_id) | Q(pk__in=linked))
    return qs.none()


def can_see_resident(user: User, resident: Resident) -> bool:
    return residents_visible_to(user).filter(pk=resident.pk).exists()


def can_manage_resident(user: User, resident: Resident) -> bool:
    """Staff (not partner admins) whose area holds the resident's home."""
    return can_manage_region(user, resident.home_region)


def regions_visible_to(user: User) -> QuerySet[Region]:
    q = _scope_q(user, "")
    qs = Region.objects.all()
    return qs if q is None else qs.filter(q)


def regions_managed_by(user: User) -> QuerySet[Region]:
    """The regions whose people ``user`` manages (the rule of :func:`can_manage_region`, as a queryset)."""
    qs = Region.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    q = Q(pk__in=[])
    for role in active_roles(user):
        if role.role != StaffRole.Role.PARTNER_ADMIN:
            q |= Q(path__startswith=role.region.path)
    return qs.filter(q)


_INITIALS = re.compile(r"^[a-z]+$")
_DIGITS = re.compile(r"^\d{3,11}$")
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


def resident_search(user: User, query: str, *, limit: int = 50) -> QuerySet[Resident]:
    """Find residents in the user's scope by ID number (exact), pinyin or initials, name, or phone digits."""
    qs = residents_visible_to(user)
    text = query.strip()
    if not text:
        return qs.none()
    compact = idnumber.normalise(text)
    if _ID_SHAPE.match(compact):
        return qs.filter(id_hash=idnumber.keyed_hash(compact))[:limit]
    lowered = text.lower().replace(" ", "")
    if _INITIALS.match(lowered):
        return qs.filter(Q(name_initials__startswith=lowered) | Q(name_pinyin__startswith=lowered)).order_by(
            "name_pinyin", "pk"
        )[:limit]
    digits = text.replace(" ", "").replace("-", "")
    if _DIGITS.match(digits):
        return qs.filter(phone__contains=digits).order_by("pk")[:limit]
    return qs.filter(name__contains=text).order_by("name_pinyin", "pk")[:limit]


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass
class Eligibility:
    """What a resident may do on a day, with the reasons in plain words."""

    age: int
    may_serve: bool
    is_priority: bool
    may_redeem: bool
    may_be_elder: bool
    may_be_proxy: bool
    serve_reasons: list[str | Promise] = field(default_factory=list)
    priority_reasons: list[str | Promise] = field(default_factory=list)


_ELIGIBILITY_POLICIES = (
    "people.serve_min_age",
    "people.elder_min_age",
    "people.priority_alone_min_age",
    "people.priority_disabled_min_age",
    "people.redeem_min_age",
    "people.proxy_min_age",
)


def _policies_on(day: dt.date, keys: tuple[str, ...]) -> Callable[[str], Any]:
    """Look up several policies in force on ``day`` with one query (the rule of ``policy_value``).

    Returns a function of the key; it raises :class:`PolicyMissing` for a key with no version in force,
    only when that key is asked for, as ``policy_value`` would.
    """
    values: dict[str, Any] = {}
    rows = (
        PolicyValue.objects.filter(key__in=keys, effective_from__lte=day)
        .order_by("key", "-effective_from")
        .values_list("key", "value")
    )
    for key, value in rows:
        values.setdefault(key, value)

    def policy(key: str) -> Any:
        if key not in values:
            return policy_value(key, on=day)  # none in force: raises PolicyMissing
        return values[key]

    return policy


_frozen_policies: ContextVar[dict[dt.date, Callable[[str], Any]] | None] = ContextVar("frozen_policies", default=None)


@contextmanager
def policies_frozen() -> Iterator[None]:
    """Inside this block :func:`eligibility` reads each day's policies once and reuses them.

    For bulk work in one transaction where no policy changes on the way (the demo loader registers tens
    of thousands of people); everywhere else every call reads the policies in force.
    """
    token = _frozen_policies.set({})
    try:
        yield
    finally:
        _frozen_policies.reset(token)


def eligibility(resident: Resident, *, on: dt.date | None = None) -> Eligibility:
    day = on or timezone.localdate()
    age = age_on(resident.birth_date, day)
    frozen = _frozen_policies.get()
    if frozen is None:
        policy = _policies_on(day, _ELIGIBILITY_POLICIES)
    else:
        policy = frozen.get(day) or frozen.setdefault(day, _policies_on(day, _ELIGIBILITY_POLICIES))
    serve_min = policy("people.serve_min_age")
    serve_reasons: list[str | Promise] = []
    if age < serve_min:
        serve_reasons.append(
            interpolate_lazy(
                _("under %(age)s: may serve only in a group led by a guardian or teacher"), {"age": serve_min}
            )
        )
    if resident.barred_until and resident.barred_until >= day:
        serve_reasons.append(
            interpolate_lazy(_("barred from serving until %(day)s"), {"day": resident.barred_until.isoformat()})
        )
    if not resident.active:
        serve_reasons.append(_("the registration is not active"))

    priority: list[str | Promise] = []
    if age >= policy("people.elder_min_age"):
        if resident.lives_alone and age >= policy("people.priority_alone_min_age"):
            priority.append(
                interpolate_lazy(
                    _("aged %(age)s or over and living alone"),
                    {"age": policy("people.priority_alone_min_age")},
                )
            )
        if (
            resident.disability != Resident.Disability.NONE
            and resident.low_income
            and age >= policy("people.priority_disabled_min_age")
        ):
            priority.append(_("disabled or semi-disabled in a low-income family"))
        if resident.lost_only_child:
            priority.append(_("lost their only child"))
        if resident.childless_widowed:
            priority.append(_("widowed with no children"))
    return Eligibility(
        age=age,
        may_serve=not serve_reasons,
        is_priority=bool(priority),
        may_redeem=age >= policy("people.redeem_min_age") and resident.active,
        may_be_elder=age >= policy("people.elder_min_age"),
        may_be_proxy=age >= policy("people.proxy_min_age"),
        serve_reasons=serve_reasons,
        priority_reasons=priority,
    )


def relatives_of(resident: Resident) -> QuerySet[Relationship]:
    return Relationship.objects.filter(resident=resident, ended_at__isnull=True).select_related("relative")


def is_relative(resident: Resident, other: Resident, *, kinds: list[str] | None = None) -> bool:
    qs = Relationship.objects.filter(resident=resident, relative=other, ended_at__isnull=True)
    if kinds is not None:
        qs = qs.filter(kind__in=kinds)
    return qs.exists()


def proxies_of(resident: Resident) -> QuerySet[Relationship]:
    return relatives_of(resident).filter(is_proxy=True)
