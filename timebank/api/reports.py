"""A few counts for the caller's area (everything through the scoped selectors)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Sum
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from timebank.care.models import Dispute
from timebank.care.selectors import needs_visible_to, visits_visible_to
from timebank.people.selectors import active_roles, residents_visible_to

from .auth import auth_for, caller
from .common import responses
from .schemas import SummaryOut

router = Router(tags=["reports"])


def _counts(qs: Any) -> list[dict[str, Any]]:
    rows = qs.order_by().values("status").annotate(n=Count("pk")).order_by("status")
    return [{"key": r["status"], "count": r["n"]} for r in rows]


@router.get("/summary", response=responses(SummaryOut), auth=auth_for("read"), summary="Counts for your area")
def summary(request: HttpRequest) -> dict[str, Any]:
    user = caller(request)
    residents = residents_visible_to(user)
    visits = visits_visible_to(user)
    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    credited = visits.filter(confirmed_at__gte=month_start).order_by().aggregate(s=Sum("credited_minutes"))["s"] or 0
    return {
        "area": [{"code": r.region.code, "name": r.region.name} for r in active_roles(user)],
        "residents": residents.count(),
        "elders": residents.filter(is_elder=True).count(),
        "volunteers": residents.filter(is_volunteer=True).count(),
        "needs_by_status": _counts(needs_visible_to(user)),
        "visits_by_status": _counts(visits),
        "minutes_credited_this_month": credited,
        "open_disputes": Dispute.objects.filter(visit__in=visits.values("pk"), outcome="").count(),
    }
