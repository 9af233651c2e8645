"""Reads for matching: who is free and within reach of a need, ranked, with the reasons in plain words.

Hard filters (a volunteer who fails one is never suggested), in the order they are checked:
an active volunteer, not the elder, not barred, otherwise allowed to serve (age, registration), a valid
certificate for the item's ``required_track``, the language and sex the elder asked for, within reach
(their own service radius, or the policy ``matching.walk_radius_m``; a radius given by the social worker
replaces both), a weekly schedule at all, free for the visit's length inside the window (weekly slots
changed by the day's exceptions), and no booked visit overlapping the window (the care rule that
``visit_assign`` enforces). The soft score is :func:`timebank.matching.engine.score`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from timebank.care.models import Need, Rating, Visit
from timebank.common.selectors import policy_value
from timebank.common.text import interpolate_lazy, join_lazy
from timebank.people.models import Resident
from timebank.people.selectors import eligibility, policies_frozen
from timebank.places.geo import haversine_m, valid_coordinates
from timebank.training.models import Certificate

from . import engine
from .errors import BadRadius, NeedWithoutLocation
from .models import Availability, AvailabilityException, MatchProfile

#: Upper bound of any radius (metres): a search further than this is a typo, not a walk.
MAX_RADIUS_M = 50_000

#: Why a volunteer is not suggested, by code, in the order the filters run.
EXCLUSIONS: dict[str, Promise] = {
    "not_volunteer": _("not an active volunteer"),
    "self": _("is the elder themselves"),
    "barred": _("barred from serving"),
    "may_not_serve": _("may not serve alone (age or registration)"),
    "certificate": _("no valid certificate for this service"),
    "language": _("does not speak the language the elder asked for"),
    "gender": _("not the sex the elder asked for"),
    "no_location": _("has no home location"),
    "reach": _("lives further away than they (or you) set"),
    "no_schedule": _("has not given a weekly schedule"),
    "not_available": _("not available at that time"),
    "booked": _("already has a visit at that time"),
}

LANGUAGE_NAMES: dict[str, Promise] = {
    "yue": _("Cantonese"),
    "cmn": _("Mandarin"),
    "other": _("another dialect"),
}

#: The parts of an explanation: key → template (English source, shown in the reader's language).
EXPLAIN: dict[str, Promise] = {
    "km": _("%(km)s km"),
    "speaks": _("speaks %(language)s"),
    "served": _("served this elder %(n)s times"),
    "rating": _("rated %(stars)s of 5"),
    "likes": _("likes this kind of service"),
    "recent": _("%(hours)s h in the last %(days)s days"),
    "missed": _("missed %(n)s visits lately"),
    "no_location": _("the need has no place on the map"),
    "nobody": _("nobody free and qualified within reach"),
}

LIVE_VISITS = (Visit.Status.ASSIGNED, Visit.Status.CHECKED_IN)
DONE_VISITS = (Visit.Status.CONFIRMED, Visit.Status.RATED)


def explanation(parts: Sequence[Sequence[Any]]) -> Promise:
    """The plain-words text of ``[[key, params], …]``, translated when it is shown ("1.2 公里 · 会讲粤语")."""
    texts: list[str | Promise] = []
    for key, params in parts:
        template = EXPLAIN.get(key)
        if template is None:
            continue
        values = dict(params)
        if "language" in values:
            values["language"] = LANGUAGE_NAMES.get(values["language"], values["language"])
        texts.append(interpolate_lazy(template, values))
    return join_lazy(" · ", texts)


# --------------------------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class Policies:
    walk_radius_m: int
    weights: dict[str, float]
    fairness_days: int
    reliability_days: int
    max_visits_per_day: int
    speed_m_per_min: int
    max_minutes_per_day: int


def policies(on: dt.date | None = None) -> Policies:
    return Policies(
        walk_radius_m=int(policy_value("matching.walk_radius_m", on=on)),
        weights={k: float(v) for k, v in policy_value("matching.score_weights", on=on).items()},
        fairness_days=int(policy_value("matching.fairness_days", on=on)),
        reliability_days=int(policy_value("matching.reliability_days", on=on)),
        max_visits_per_day=int(policy_value("matching.max_visits_per_day", on=on)),
        speed_m_per_min=int(policy_value("matching.walk_speed_m_per_min", on=on)),
        max_minutes_per_day=int(policy_value("care.max_minutes_per_day", on=on)),
    )


def check_radius(value: Any) -> int:
    """A radius in whole metres above zero, or :class:`BadRadius`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN
        raise BadRadius(field="radius_m", value=value, limit=MAX_RADIUS_M)
    if value <= 0 or value > MAX_RADIUS_M:
        raise BadRadius(field="radius_m", value=value, limit=MAX_RADIUS_M)
    return int(value)


def need_location(need: Need) -> tuple[float, float]:
    if not valid_coordinates(need.lat, need.lon) or (need.lat == 0 and need.lon == 0):
        raise NeedWithoutLocation(field="lat")
    return float(need.lat), float(need.lon)


# --------------------------------------------------------------------------------------------- index

_INDEX: dict[str, engine.VolunteerIndex] = {}


def _volunteers() -> Any:
    return Resident.objects.filter(is_volunteer=True, active=True, lat__isnull=False, lon__isnull=False)


def index_stamp(default_radius: int) -> tuple[Any, ...]:
    """Changes whenever a volunteer joins, leaves, moves or changes radius (cheap: two aggregates)."""
    agg = _volunteers().aggregate(n=Count("pk"), top=Max("pk"), ids=Sum("pk"), lat=Sum("lat"), lon=Sum("lon"))
    prof = MatchProfile.objects.aggregate(n=Count("pk"), last=Max("updated_at"), r=Sum("radius_m"))
    return (
        agg["n"],
        agg["top"],
        agg["ids"],
        round(agg["lat"] or 0.0, 6),
        round(agg["lon"] or 0.0, 6),
        prof["n"],
        prof["last"],
        prof["r"],
        default_radius,
    )


@dataclass
class ReachIndex:
    index: engine.VolunteerIndex
    reach: engine.FloatArray  # each point's service radius in metres

    @property
    def max_reach(self) -> float:
        return float(self.reach.max()) if len(self.reach) else 0.0


def volunteer_index(default_radius: int) -> ReachIndex:
    """The BallTree of active volunteers' homes, rebuilt only when :func:`index_stamp` changes."""
    stamp = index_stamp(default_radius)
    cached = _INDEX.get("volunteers")
    if cached is None or cached.stamp != stamp:
        rows = list(_volunteers().order_by("pk").values_list("pk", "lat", "lon"))
        ids = [r[0] for r in rows]
        radii = dict(MatchProfile.objects.filter(radius_m__isnull=False).values_list("volunteer_id", "radius_m"))
        reach = [radii.get(i, default_radius) for i in ids]
        cached = engine.VolunteerIndex(ids, [r[1] for r in rows], [r[2] for r in rows], reach=reach, stamp=stamp)
        _INDEX["volunteers"] = cached
    return ReachIndex(cached, cached.reach)


# --------------------------------------------------------------------------------------------- facts


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _union(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _subtract(intervals: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    for a, b in intervals:
        if cut[1] <= a or cut[0] >= b:
            out.append((a, b))
            continue
        if a < cut[0]:
            out.append((a, cut[0]))
        if cut[1] < b:
            out.append((cut[1], b))
    return out


def fits(intervals: Sequence[tuple[int, int]], start: float, end: float, duration: float) -> bool:
    """Whether ``duration`` minutes fit inside [start, end] and inside one of the free intervals."""
    return any(min(b, end) - max(a, start) >= duration for a, b in intervals)


@dataclass
class Facts:
    """What the filters and the score need about some volunteers, read in a few queries."""

    day: dt.date
    residents: dict[int, Resident]
    reach: dict[int, int]
    preferred: dict[int, set[int]]
    certificates: set[tuple[int, str]]
    has_schedule: set[int]
    free: dict[int, list[tuple[int, int]]]  # minutes of the day's local time
    booked: dict[int, list[tuple[dt.datetime, dt.datetime]]]
    stars: dict[int, tuple[int, int]]  # (sum, count) of elder ratings
    recent_minutes: dict[int, int]
    reliability: dict[int, tuple[int, int, int]]  # (no-shows, cancellations, assigned)
    served: dict[tuple[int, int], int] = field(default_factory=dict)  # (volunteer, elder) → visits done
    may_serve: dict[int, bool] = field(default_factory=dict)


def load_facts(ids: Iterable[int], day: dt.date, pol: Policies, *, elders: Iterable[int] = ()) -> Facts:
    ids = sorted(set(ids))
    residents = Resident.objects.in_bulk(ids)
    profiles = {
        p.volunteer_id: p for p in MatchProfile.objects.filter(volunteer_id__in=ids).prefetch_related("preferred_items")
    }
    reach: dict[int, int] = dict.fromkeys(ids, pol.walk_radius_m)
    for i, profile in profiles.items():
        if profile.radius_m:
            reach[i] = profile.radius_m
    preferred = {i: {item.pk for item in p.preferred_items.all()} for i, p in profiles.items()}
    certificates = set(
        Certificate.objects.filter(
            holder_id__in=ids, valid_from__lte=day, valid_until__gte=day, revoked_at__isnull=True
        ).values_list("holder_id", "track")
    )
    has_schedule = set(Availability.objects.filter(volunteer_id__in=ids).values_list("volunteer_id", flat=True))
    weekly: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for vid, start, end in Availability.objects.filter(volunteer_id__in=ids, weekday=day.weekday()).values_list(
        "volunteer_id", "start", "end"
    ):
        weekly[vid].append((_minutes(start), _minutes(end)))
    free = {i: _union(weekly.get(i, [])) for i in ids}
    for exc in AvailabilityException.objects.filter(volunteer_id__in=ids, date=day).order_by("pk"):
        if exc.available:
            assert exc.start is not None and exc.end is not None
            free[exc.volunteer_id] = _union([*free[exc.volunteer_id], (_minutes(exc.start), _minutes(exc.end))])
            has_schedule.add(exc.volunteer_id)
        elif exc.start is None or exc.end is None:
            free[exc.volunteer_id] = []
        else:
            free[exc.volunteer_id] = _subtract(free[exc.volunteer_id], (_minutes(exc.start), _minutes(exc.end)))
    tz = timezone.get_current_timezone()
    begin = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    booked: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for vid, ws, we in Visit.objects.filter(
        volunteer_id__in=ids,
        status__in=LIVE_VISITS,
        need__window_end__gt=begin,
        need__window_start__lt=begin + dt.timedelta(days=3),
    ).values_list("volunteer_id", "need__window_start", "need__window_end"):
        booked[vid].append((ws, we))
    stars = {
        r["visit__volunteer"]: (r["s"], r["c"])
        for r in Rating.objects.filter(side=Rating.Side.ELDER, visit__volunteer__in=ids)
        .values("visit__volunteer")
        .annotate(s=Sum("stars"), c=Count("pk"))
    }
    now = timezone.now()
    recent = {
        r["volunteer"]: r["m"] or 0
        for r in Visit.objects.filter(
            volunteer_id__in=ids, status__in=DONE_VISITS, check_in_at__gte=now - dt.timedelta(days=pol.fairness_days)
        )
        .values("volunteer")
        .annotate(m=Sum("credited_minutes"))
    }
    reliability = {
        r["volunteer"]: (r["ns"], r["cx"], r["n"])
        for r in Visit.objects.filter(
            volunteer_id__in=ids, created_at__gte=now - dt.timedelta(days=pol.reliability_days)
        )
        .values("volunteer")
        .annotate(
            n=Count("pk"),
            ns=Count("pk", filter=Q(status=Visit.Status.NO_SHOW)),
            cx=Count("pk", filter=Q(status=Visit.Status.CANCELLED) & ~Q(need__status=Need.Status.CANCELLED)),
        )
    }
    served: dict[tuple[int, int], int] = {}
    elder_ids = sorted(set(elders))
    if elder_ids:
        for r in (
            Visit.objects.filter(volunteer_id__in=ids, need__elder_id__in=elder_ids, status__in=DONE_VISITS)
            .values("volunteer", "need__elder")
            .annotate(n=Count("pk"))
        ):
            served[(r["volunteer"], r["need__elder"])] = r["n"]
    may_serve = {}
    with policies_frozen():
        for i, resident in residents.items():
            may_serve[i] = eligibility(resident, on=day).may_serve
    return Facts(
        day=day,
        residents=residents,
        reach=reach,
        preferred=preferred,
        certificates=certificates,
        has_schedule=has_schedule,
        free=free,
        booked=dict(booked),
        stars=stars,
        recent_minutes=recent,
        reliability=reliability,
        served=served,
        may_serve=may_serve,
    )


# --------------------------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Window:
    """A need's window in local time: its day and minutes from that day's midnight; the visit's length."""

    day: dt.date
    start: float
    end: float
    duration: float
    start_at: dt.datetime
    end_at: dt.datetime


def window_of(need: Need) -> Window:
    local = timezone.localtime(need.window_start)
    start = local.hour * 60 + local.minute + local.second / 60
    length = (need.window_end - need.window_start).total_seconds() / 60
    duration = min(float(need.item_version.default_minutes), length)
    return Window(local.date(), start, start + length, duration, need.window_start, need.window_end)


def exclusions(
    need: Need, win: Window, vid: int, distance_m: float | None, facts: Facts, *, radius_m: int | None, first: bool
) -> list[str]:
    """The hard filters ``vid`` fails for ``need`` (only the first one when ``first``)."""
    out: list[str] = []
    v = facts.residents.get(vid)

    def fail(code: str) -> bool:
        out.append(code)
        return first

    if v is None or not v.is_volunteer or not v.active:
        fail("not_volunteer")
        return out
    if vid == need.elder_id and fail("self"):
        return out
    if v.barred_until and v.barred_until >= win.day:
        if fail("barred"):
            return out
    elif not facts.may_serve.get(vid, False) and fail("may_not_serve"):
        return out
    track = need.item_version.required_track
    if track and (vid, track) not in facts.certificates and fail("certificate"):
        return out
    if need.pref_language and need.pref_language not in (v.languages or []) and fail("language"):
        return out
    if need.pref_gender and v.sex != need.pref_gender and fail("gender"):
        return out
    if distance_m is None:
        if fail("no_location"):
            return out
    elif distance_m > (radius_m if radius_m is not None else facts.reach.get(vid, 0)) and fail("reach"):
        return out
    if vid not in facts.has_schedule:
        if fail("no_schedule"):
            return out
    elif not fits(facts.free.get(vid, []), win.start, win.end, win.duration) and fail("not_available"):
        return out
    clash = any(s < win.end_at and e > win.start_at for s, e in facts.booked.get(vid, []))
    if clash:
        fail("booked")
    return out


def terms_for(
    need: Need, vids: Sequence[int], distances: Sequence[float], facts: Facts, *, radius_m: int | None
) -> engine.Terms:
    reach = np.array([radius_m or facts.reach.get(v, 1) for v in vids], dtype=np.float64)
    stars = [facts.stars.get(v, (0, 0)) for v in vids]
    rel = [facts.reliability.get(v, (0, 0, 0)) for v in vids]
    pref = np.array(
        [(0.0 if need.item_id in facts.preferred[v] else 1.0) if facts.preferred.get(v) else 0.5 for v in vids],
        dtype=np.float64,
    )
    return engine.Terms(
        distance=np.asarray(distances, dtype=np.float64) / np.maximum(reach, 1.0),
        rating=engine.rating_term([s[0] for s in stars], [s[1] for s in stars]),
        continuity=engine.continuity_term([facts.served.get((v, need.elder_id), 0) for v in vids]),
        fairness=engine.fairness_term([facts.recent_minutes.get(v, 0) for v in vids]),
        reliability=engine.reliability_term([r[0] for r in rel], [r[1] for r in rel], [r[2] for r in rel]),
        preference=pref,
    )


def reasons_for(need: Need, vid: int, distance_m: float, facts: Facts, pol: Policies) -> list[list[Any]]:
    """The plain-words explanation of one candidate, as data ([key, params] pairs)."""
    v = facts.residents[vid]
    parts: list[list[Any]] = [["km", {"km": f"{distance_m / 1000:.1f}"}]]
    if need.pref_language and need.pref_language in (v.languages or []):
        parts.append(["speaks", {"language": need.pref_language}])
    elif "yue" in (need.elder.languages or []) and "yue" in (v.languages or []):
        parts.append(["speaks", {"language": "yue"}])
    served = facts.served.get((vid, need.elder_id), 0)
    if served:
        parts.append(["served", {"n": served}])
    total, count = facts.stars.get(vid, (0, 0))
    if count:
        parts.append(["rating", {"stars": f"{total / count:.1f}"}])
    if need.item_id in facts.preferred.get(vid, set()):
        parts.append(["likes", {}])
    parts.append(["recent", {"hours": f"{facts.recent_minutes.get(vid, 0) / 60:.0f}", "days": pol.fairness_days}])
    no_shows = facts.reliability.get(vid, (0, 0, 0))[0]
    if no_shows:
        parts.append(["missed", {"n": no_shows}])
    return parts


# --------------------------------------------------------------------------------------------- ranking


@dataclass
class Candidate:
    volunteer: Resident
    distance_m: int
    cost: float
    reasons: list[list[Any]]

    @property
    def explanation(self) -> Promise:
        return explanation(self.reasons)


@dataclass
class CandidateList:
    need: Need
    radius_m: int | None  # the radius the social worker gave, or None (each volunteer's own reach)
    nearby: int  # volunteers within the search circle
    candidates: list[Candidate]
    excluded: dict[str, int]  # filter code → volunteers it removed (among those nearby)

    def excluded_text(self) -> list[tuple[Promise, int]]:
        return [(EXCLUSIONS[k], n) for k, n in self.excluded.items()]


def candidates(need: Need, *, radius_m: Any = None, limit: int = 20) -> CandidateList:
    """The best ``limit`` volunteers for ``need``, best first, each with its explanation.

    ``radius_m`` (optional) replaces every volunteer's own reach; zero, negative or absurd values are
    refused with :class:`BadRadius`. A need without a usable place raises :class:`NeedWithoutLocation`.
    """
    lat, lon = need_location(need)
    radius = check_radius(radius_m) if radius_m is not None else None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        limit = 20
    win = window_of(need)
    pol = policies(win.day)
    idx = volunteer_index(pol.walk_radius_m)
    if radius is None:
        pos, dist = idx.index.within_reach(lat, lon)
    else:
        pos, dist = idx.index.within(lat, lon, radius)
    vids = [int(v) for v in idx.index.ids[pos]]
    distance = dict(zip(vids, (float(d) for d in dist), strict=True))
    facts = load_facts(vids, win.day, pol, elders=[need.elder_id])
    ok: list[int] = []
    excluded: dict[str, int] = {}
    for vid in vids:
        failed = exclusions(need, win, vid, distance[vid], facts, radius_m=radius, first=True)
        if failed:
            excluded[failed[0]] = excluded.get(failed[0], 0) + 1
        else:
            ok.append(vid)
    found: list[Candidate] = []
    if ok:
        d = np.array([distance[v] for v in ok])
        cost = engine.score(terms_for(need, ok, d.tolist(), facts, radius_m=radius), pol.weights)
        for k in engine.top_k(cost, d, limit):
            vid = ok[int(k)]
            reasons = reasons_for(need, vid, distance[vid], facts, pol)
            found.append(Candidate(facts.residents[vid], round(distance[vid]), float(cost[k]), reasons))
    order = {k: n for n, k in enumerate(EXCLUSIONS)}
    return CandidateList(need, radius, len(vids), found, dict(sorted(excluded.items(), key=lambda kv: order[kv[0]])))


def why_not(volunteer: Resident, need: Need, *, radius_m: Any = None) -> list[str]:
    """Every hard filter ``volunteer`` fails for ``need`` (codes of :data:`EXCLUSIONS`); empty if none."""
    radius = check_radius(radius_m) if radius_m is not None else None
    win = window_of(need)
    pol = policies(win.day)
    facts = load_facts([volunteer.pk], win.day, pol, elders=[need.elder_id])
    distance = None
    if valid_coordinates(need.lat, need.lon) and valid_coordinates(volunteer.lat, volunteer.lon):
        assert volunteer.lat is not None and volunteer.lon is not None
        distance = haversine_m(need.lat, need.lon, volunteer.lat, volunteer.lon)
    return exclusions(need, win, volunteer.pk, distance, facts, radius_m=radius, first=False)


def free_intervals(volunteer: Resident, day: dt.date) -> list[tuple[dt.time, dt.time]]:
    """The volunteer's free times on ``day`` (weekly slots and the day's exceptions; booked visits not removed)."""
    facts = load_facts([volunteer.pk], day, policies(day))
    return [
        (dt.time(a // 60, a % 60), dt.time(min(b, 1439) // 60, min(b, 1439) % 60)) for a, b in facts.free[volunteer.pk]
    ]


# --------------------------------------------------------------------------------------------- batch


@dataclass
class PlanRow:
    need: Need
    volunteer_id: int | None
    distance_m: int | None
    cost: float | None
    reasons: list[list[Any]]


@dataclass
class Plan:
    rows: list[PlanRow]
    summary: dict[str, Any]
    problem: engine.Problem | None = None
    solution: engine.Solution | None = None


def open_needs_on(region: Any, day: dt.date) -> list[Need]:
    tz = timezone.get_current_timezone()
    begin = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    return list(
        Need.objects.filter(
            status=Need.Status.OPEN,
            region__path__startswith=region.path,
            window_start__gte=begin,
            window_start__lt=begin + dt.timedelta(days=1),
            window_end__gt=timezone.now(),
        )
        .select_related("item_version", "elder")
        .order_by("window_start", "pk")
    )


def plan_day(region: Any, day: dt.date) -> Plan:
    """The optimal assignment of ``region``'s open needs on ``day`` (see :func:`engine.solve`)."""
    from .errors import NothingToDispatch

    needs = open_needs_on(region, day)
    if not needs:
        raise NothingToDispatch(field="day", area=region.name, day=day.isoformat())
    pol = policies(day)
    idx = volunteer_index(pol.walk_radius_m)
    located: list[int] = []
    near: dict[int, dict[int, float]] = {}
    for i, need in enumerate(needs):
        if not valid_coordinates(need.lat, need.lon) or (need.lat == 0 and need.lon == 0):
            continue
        located.append(i)
        pos, dist = idx.index.within_reach(need.lat, need.lon)
        near[i] = {int(v): float(d) for v, d in zip(idx.index.ids[pos], dist, strict=True)}
    all_vids = sorted({v for found in near.values() for v in found})
    facts = load_facts(all_vids, day, pol, elders={n.elder_id for n in needs})
    windows = {i: window_of(needs[i]) for i in located}
    ok: dict[int, list[int]] = {}
    for i in located:
        ok[i] = [
            v
            for v, d in near[i].items()
            if not exclusions(needs[i], windows[i], v, d, facts, radius_m=None, first=True)
        ]
    cols = sorted({v for vs in ok.values() for v in vs})
    col = {v: j for j, v in enumerate(cols)}
    n, m = len(located), len(cols)
    feasible = np.zeros((n, m), dtype=bool)
    other = np.zeros((n, m))
    no_distance = {**pol.weights, "distance": 0.0}
    for row_no, i in enumerate(located):
        vs = ok[i]
        if not vs:
            continue
        js = [col[v] for v in vs]
        feasible[row_no, js] = True
        other[row_no, js] = engine.score(
            terms_for(needs[i], vs, [near[i][v] for v in vs], facts, radius_m=None), no_distance
        )
    residents = facts.residents
    problem = engine.problem_from_arrays(
        need_lat=[needs[i].lat for i in located],
        need_lon=[needs[i].lon for i in located],
        start=[windows[i].start for i in located],
        end=[windows[i].end for i in located],
        duration=[windows[i].duration for i in located],
        vol_lat=[residents[v].lat for v in cols],
        vol_lon=[residents[v].lon for v in cols],
        reach=[facts.reach[v] for v in cols],
        feasible=feasible,
        other=other,
        weights=pol.weights,
        max_visits=pol.max_visits_per_day,
        max_minutes=pol.max_minutes_per_day,
        speed_m_per_min=pol.speed_m_per_min,
    )
    solution = engine.solve(problem)
    chosen = solution.volunteer_of()
    rows: list[PlanRow] = []
    where = {i: r for r, i in enumerate(located)}
    for i, need in enumerate(needs):
        r: int | None = where.get(i)
        if r is None:
            rows.append(PlanRow(need, None, None, None, [["no_location", {}]]))
            continue
        if r not in chosen:
            rows.append(PlanRow(need, None, None, None, [["nobody", {}]]))
            continue
        vid = cols[chosen[r]]
        home = near[i][vid]
        reasons = reasons_for(need, vid, home, facts, pol)
        leg = solution.legs_m.get(r, home)
        rows.append(PlanRow(need, vid, round(leg), float(problem.cost[r, chosen[r]]), reasons))
    matched = sum(1 for row in rows if row.volunteer_id is not None)
    summary = {
        "needs": len(needs),
        "matched": matched,
        "without_location": len(needs) - len(located),
        "volunteers_considered": len(all_vids),
        "volunteers_used": len({row.volunteer_id for row in rows if row.volunteer_id}),
        "travel_m": round(solution.total_travel_m(problem)),
    }
    return Plan(rows, summary, problem, solution)


def qualified_nearby(need: Need, *, limit: int = 12, scan: int = 2000) -> list[tuple[int, Resident]]:
    """(metres, volunteer) for the volunteers of the need's town who pass the care rules, nearest first.

    A fallback for when :func:`candidates` finds nobody (no volunteer nearby has entered their free
    times): these are qualified but not known to be free. At most ``scan`` volunteers are checked.
    """
    from timebank.care.services import volunteer_check
    from timebank.common.errors import DomainError

    town = need.region.parent or need.region
    pool = Resident.objects.filter(
        is_volunteer=True, active=True, home_region__path__startswith=town.path, lat__isnull=False, lon__isnull=False
    ).exclude(pk=need.elder_id)
    found: list[tuple[float, Resident]] = []
    for volunteer in pool[:scan]:
        try:
            volunteer_check(volunteer, need)
        except DomainError:
            continue
        assert volunteer.lat is not None and volunteer.lon is not None
        found.append((haversine_m(need.lat, need.lon, volunteer.lat, volunteer.lon), volunteer))
    found.sort(key=lambda pair: (pair[0], pair[1].pk))
    return [(round(d), v) for d, v in found[:limit]]
