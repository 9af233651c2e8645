"""Who may use which part of the site. The rules live in the selectors; this only routes people.

Areas: ``elder`` (an elder, or a family proxy acting for one), ``volunteer``, ``station`` (social workers),
``area`` (town administrators, city supervisors and partner-organisation administrators).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from timebank.people.models import Resident, StaffRole, User
from timebank.people.selectors import active_roles, proxies_of


@dataclass(frozen=True)
class Area:
    key: str
    label: str | Promise
    url: str
    hint: str | Promise


def elders_for(user: User) -> list[Resident]:
    """The elders ``user`` may act for in the elder area: themselves, and those who chose them as proxy."""
    if not user.is_authenticated or user.resident is None:
        return []
    me = user.resident
    found = [me] if me.is_elder else []
    from timebank.people.models import Relationship

    links = Relationship.objects.filter(relative=me, is_proxy=True, ended_at__isnull=True).select_related(
        "resident__home_region"
    )
    found += [link.resident for link in links.order_by("resident__name")]
    return found


def can_use(user: User, key: str) -> bool:
    if not user.is_authenticated:
        return False
    roles = {r.role for r in active_roles(user)}
    if key == "elder":
        return bool(elders_for(user))
    if key == "volunteer":
        return bool(user.resident is not None and user.resident.is_volunteer)
    if key == "station":
        return StaffRole.Role.SOCIAL_WORKER in roles or StaffRole.Role.TOWN_ADMIN in roles
    if key == "area":
        return bool(user.is_superuser) or bool(
            roles & {StaffRole.Role.TOWN_ADMIN, StaffRole.Role.CITY_SUPERVISOR, StaffRole.Role.PARTNER_ADMIN}
        )
    return False


def areas_for(user: User) -> list[Area]:
    all_areas = [
        Area(
            "elder",
            _("Help for me or my family"),
            reverse("web:elder:index"),
            _("Ask for help, confirm visits, see hours"),
        ),
        Area("volunteer", _("Volunteer"), reverse("web:volunteer:index"), _("Needs near you, your visits, your hours")),
        Area("station", _("Station work"), reverse("web:station:index"), _("Today's visits, needs to match, disputes")),
        Area("area", _("Overview of my area"), reverse("web:area:index"), _("Figures, reports and rules")),
    ]
    return [a for a in all_areas if can_use(user, a.key)]


def area_required(key: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Log in first; then only people who may use ``key`` get in (others see the 403 page)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not can_use(request.user, key):  # type: ignore[arg-type]
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


__all__ = ["Area", "area_required", "areas_for", "can_use", "elders_for", "proxies_of"]
