"""Figures for the area overview, counted through the scoped selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from timebank.care.models import Dispute, Need, Visit
from timebank.care.selectors import needs_visible_to, visits_visible_to
from timebank.common.selectors import policy_value
from timebank.people.models import Resident, User
from timebank.people.selectors import residents_visible_to


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def priority_elders(residents: QuerySet[Resident], day: dt.date) -> QuerySet[Resident]:
    """The rule of ``people.selectors.eligibility`` (is_priority) as one query, for counting."""
    born_by = {
        key: _years_before(day, int(policy_value(f"people.{key}", on=day)))
        for key in ("elder_min_age", "priority_alone_min_age", "priority_disabled_min_age")
    }
    return residents.filter(is_elder=True, birth_date__lte=born_by["elder_min_age"]).filter(
        Q(lives_alone=True, birth_date__lte=born_by["priority_alone_min_age"])
        | (
            ~Q(disability=Resident.Disability.NONE)
            & Q(low_income=True, birth_date__lte=born_by["priority_disabled_min_age"])
        )
        | Q(lost_only_child=True)
        | Q(childless_widowed=True)
    )


@dataclass
class Figures:
    residents: int
    volunteers: int
    elders: int
    priority_elders: int
    open_needs: int
    visits_this_month: int
    hours_this_month: float
    open_disputes: int


def area_figures(user: User) -> Figures:
    today = timezone.localdate()
    month_start = timezone.make_aware(dt.datetime.combine(today.replace(day=1), dt.time.min))
    people = residents_visible_to(user).filter(active=True)
    visits = visits_visible_to(user)
    month = visits.filter(need__window_start__gte=month_start).exclude(
        status__in=[Visit.Status.CANCELLED, Visit.Status.NO_SHOW]
    )
    served = (
        visits.filter(confirmed_at__gte=month_start, credited_minutes__isnull=False).aggregate(
            s=Sum("credited_minutes")
        )["s"]
        or 0
    )
    return Figures(
        residents=people.count(),
        volunteers=people.filter(is_volunteer=True).count(),
        elders=people.filter(is_elder=True).count(),
        priority_elders=priority_elders(people, today).count(),
        open_needs=needs_visible_to(user).filter(status=Need.Status.OPEN, window_end__gt=timezone.now()).count(),
        visits_this_month=month.count(),
        hours_this_month=round(served / 60, 1),
        open_disputes=Dispute.objects.filter(outcome="", visit__in=visits.values("pk")).count(),
    )
