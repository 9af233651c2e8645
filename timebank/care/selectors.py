"""Reads of the life of a service, always through the reader's scope; anomaly flags for staff."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Avg, BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from timebank.people.models import Resident, User
from timebank.people.selectors import residents_visible_to
from timebank.places.geo import haversine_m

from .models import Application, Dispute, Item, Need, Rating, Visit


def catalogue() -> QuerySet[Item]:
    return Item.objects.filter(active=True).select_related("category").prefetch_related("versions")


def needs_visible_to(user: User) -> QuerySet[Need]:
    return Need.objects.filter(elder__in=residents_visible_to(user).values("pk")).select_related(
        "elder", "item", "item_version", "region"
    )


def visits_visible_to(user: User) -> QuerySet[Visit]:
    """Visits of an elder or a volunteer ``user`` may see; ``elder_visible`` says whether the elder is one.

    A visit seen only through its volunteer (a partner organisation's volunteer, or a volunteer of the town
    serving an elder of another town) must not show the elder: readers show the elder only when
    ``elder_visible`` is true (the API's ``elder_id`` is null otherwise).
    """
    visible = residents_visible_to(user).values("pk")
    return (
        Visit.objects.filter(Q(need__elder__in=visible) | Q(volunteer__in=visible))
        .annotate(elder_visible=ExpressionWrapper(Q(need__elder__in=visible), output_field=BooleanField()))
        .select_related("need__elder__home_region", "need__item", "volunteer")
    )


def open_needs_near(volunteer: Resident, *, radius_m: float = 3000, limit: int = 50) -> list[tuple[Need, int]]:
    """Open needs within ``radius_m`` of the volunteer's home, nearest first, with the distance in metres."""
    if volunteer.lat is None or volunteer.lon is None:
        return []
    now = timezone.now()
    dlat = radius_m / 111_000
    candidates = Need.objects.filter(
        status=Need.Status.OPEN, window_end__gt=now, lat__range=(volunteer.lat - dlat, volunteer.lat + dlat)
    ).select_related("item", "elder", "region")
    found = []
    for need in candidates:
        distance = haversine_m(volunteer.lat, volunteer.lon, need.lat, need.lon)
        if distance <= radius_m and need.elder_id != volunteer.pk:
            found.append((need, int(distance)))
    found.sort(key=lambda pair: (pair[1], pair[0].window_start))
    return found[:limit]


def volunteer_visits(volunteer: Resident) -> QuerySet[Visit]:
    """All visits of one volunteer (for their own pages), with the need, item and elder."""
    return Visit.objects.filter(volunteer=volunteer).select_related("need__item", "need__elder", "need__region")


def volunteer_schedule(volunteer: Resident, *, past_limit: int = 20) -> tuple[list[Visit], list[Visit]]:
    """(upcoming visits: assigned or checked in, soonest first; the latest ``past_limit`` other visits)."""
    visits = volunteer_visits(volunteer)
    live = [Visit.Status.ASSIGNED, Visit.Status.CHECKED_IN]
    upcoming = list(visits.filter(status__in=live).order_by("need__window_start", "pk"))
    past = list(visits.exclude(status__in=live).order_by("-need__window_start", "-pk")[:past_limit])
    return upcoming, past


def applied_need_ids(volunteer: Resident) -> set[int]:
    """Needs the volunteer has applied for and not withdrawn."""
    return set(
        Application.objects.filter(volunteer=volunteer, status=Application.Status.APPLIED).values_list(
            "need_id", flat=True
        )
    )


def volunteer_record(volunteer: Resident) -> dict[str, object]:
    """What the volunteer record holds: visits, hours, ratings received and complaints."""
    visits = Visit.objects.filter(volunteer=volunteer)
    done = visits.filter(status__in=[Visit.Status.CONFIRMED, Visit.Status.RATED])
    ratings = Rating.objects.filter(visit__volunteer=volunteer, side=Rating.Side.ELDER)
    return {
        "visits": done.count(),
        "minutes": sum(v.credited_minutes or 0 for v in done),
        "rating": ratings.aggregate(a=Avg("stars"))["a"],
        "complaints": ratings.filter(is_complaint=True).count()
        + Dispute.objects.filter(visit__volunteer=volunteer).count(),
        "no_shows": visits.filter(status=Visit.Status.NO_SHOW).count(),
    }


@dataclass
class Flag:
    kind: str
    text: str
    visit_ids: list[int] = field(default_factory=list)


def anomaly_flags(
    user: User, *, days: int = 90, swap_min: int = 3, long_minutes: int = 360, proxy_per_week: int = 10
) -> list[Flag]:
    """Patterns staff should look at, each with the visits that show it.

    * hour swapping: two people who serve each other, each at least ``swap_min`` times in ``days`` days;
    * very long visits (``long_minutes`` or more);
    * one proxy confirming many visits (``proxy_per_week`` or more in a week).
    """
    since = timezone.now() - dt.timedelta(days=days)
    visits = (
        visits_visible_to(user)
        .filter(check_in_at__gte=since)
        .exclude(status__in=[Visit.Status.CANCELLED, Visit.Status.NO_SHOW])
    )
    flags: list[Flag] = []
    pairs = Counter(visits.values_list("volunteer_id", "need__elder_id"))
    seen: set[tuple[int, int]] = set()
    for (a, b), n in pairs.items():
        if n >= swap_min and pairs.get((b, a), 0) >= swap_min and (b, a) not in seen:
            seen.add((a, b))
            ids = list(
                visits.filter(Q(volunteer_id=a, need__elder_id=b) | Q(volunteer_id=b, need__elder_id=a)).values_list(
                    "pk", flat=True
                )
            )
            names = dict(Resident.objects.filter(pk__in=[a, b]).values_list("pk", "name"))
            flags.append(Flag("swap", f"{names.get(a)} ⇄ {names.get(b)}: {n} + {pairs[(b, a)]}", ids))
    for visit in visits.filter(actual_minutes__gte=long_minutes):
        flags.append(Flag("long", f"{visit.volunteer.name}: {visit.actual_minutes} min", [visit.pk]))
    week_ago = timezone.now() - dt.timedelta(days=7)
    busy = (
        visits.filter(confirmed_via="proxy", confirmed_at__gte=week_ago)
        .values("confirmed_by")
        .annotate(n=Count("pk"))
        .filter(n__gte=proxy_per_week)
    )
    for row in busy:
        ids = list(
            visits.filter(
                confirmed_via="proxy", confirmed_at__gte=week_ago, confirmed_by=row["confirmed_by"]
            ).values_list("pk", flat=True)
        )
        who = User.objects.get(pk=row["confirmed_by"])
        flags.append(Flag("proxy", f"{who}: {row['n']}", ids))
    return flags
