"""The numeric core of matching, free of the database: the spatial index, the soft score and the solvers.

Everything here works on numpy arrays so that the selectors (real data) and ``bench/matching_bench.py``
(100,000 synthetic volunteers) time the same code.

Spatial index
    :class:`VolunteerIndex` is a scikit-learn ``BallTree`` with the haversine metric over the volunteers'
    homes (radians). A radius query returns the volunteers within reach of a need in well under a
    millisecond at city scale; the numbers against a full scan are in bench/RESULTS.md ("Matching").

Soft score (a cost: lower is better)
    ``cost = Σ weight_k · term_k`` with every term in [0, 1]: distance / reach, (5 − rating) / 4,
    1 − min(visits to this elder, 3) / 3, min(recent minutes / 1200, 1), unreliability, and 0/0.5/1 for a
    preferred / no preference / other item. Weights are the policy ``matching.score_weights``.

Batch assignment (:func:`solve`)
    Round 1 is an exact optimum of "each need to at most one volunteer, each volunteer at most one need":
    ``scipy.optimize.linear_sum_assignment`` on the cost matrix, infeasible pairs priced at :data:`BIG` (so
    the solver first matches as many needs as possible, then minimises the cost) and dropped afterwards.
    When a volunteer may take several visits a day (``max_visits`` > 1), further rounds solve the same
    problem for the still-open needs against volunteers with room left, where a pair is feasible only if
    the need can be inserted into the volunteer's day: no overlapping windows (the care rule), each visit
    started as early as its window allows after walking from the previous one, and finished inside its
    window, and the day's minutes under ``max_minutes``; its distance term is the *added* walking.
    This round-by-round scheme is an approximation: each round is optimal, the rounds together need not
    be (a min-cost flow over time-expanded slots would be exact for fixed slots). Within a need's window
    the volunteer's availability is checked once (some placement of the visit fits a free slot), not
    again for the shifted start in later rounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import BallTree

from timebank.places.geo import EARTH_RADIUS_M

#: Cost of an infeasible pair: larger than any sum of feasible costs, so the optimum never uses one
#: unless nothing else is possible, and then it is dropped.
BIG = 1.0e7

#: Upper ends of the service-radius bands of :class:`VolunteerIndex` (metres).
REACH_BANDS_M = (1000.0, 1500.0, 2000.0, 3000.0, 5000.0, 10_000.0, 50_000.0)

#: Recent service minutes at which the fairness term saturates (20 hours).
FAIRNESS_SCALE_MINUTES = 1200.0

WEIGHT_KEYS = ("distance", "rating", "continuity", "fairness", "reliability", "preference")
DEFAULT_WEIGHTS = {
    "distance": 1.0,
    "rating": 0.5,
    "continuity": 1.0,
    "fairness": 0.4,
    "reliability": 0.8,
    "preference": 0.2,
}

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def haversine_many(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> FloatArray:
    """Great-circle distances in metres, broadcasting numpy arrays of degrees."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a))), dtype=np.float64)


class VolunteerIndex:
    """Volunteers' homes in a BallTree (haversine). ``ids[k]`` is the resident pk of point ``k``."""

    def __init__(self, ids: Sequence[int] | IntArray, lat: Any, lon: Any, *, reach: Any = None, stamp: Any = None):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.reach = np.asarray(reach if reach is not None else np.zeros(len(self.ids)), dtype=np.float64)
        self.lat = np.asarray(lat, dtype=np.float64)
        self.lon = np.asarray(lon, dtype=np.float64)
        self.stamp = stamp
        self.tree: BallTree | None = None
        points = np.radians(np.column_stack([self.lat, self.lon])) if len(self.ids) else np.empty((0, 2))
        if len(self.ids):
            self.tree = BallTree(points, metric="haversine", leaf_size=40)
        # one small tree per band of service radius, so a query reads only the homes within their own reach
        # band (a few volunteers who walk 3 km would otherwise make every query read a 3 km circle)
        self.bands: list[tuple[float, IntArray, BallTree]] = []
        low = 0.0
        for high in REACH_BANDS_M:
            members = np.flatnonzero((self.reach > low) & (self.reach <= high))
            if len(members):
                self.bands.append((high, members, BallTree(points[members], metric="haversine", leaf_size=40)))
            low = high

    def __len__(self) -> int:
        return len(self.ids)

    def within(self, lat: float, lon: float, radius_m: float) -> tuple[IntArray, FloatArray]:
        """Positions (into ``ids``) of the points within ``radius_m`` of (lat, lon), and their distances."""
        if self.tree is None or radius_m <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        point = np.radians([[lat, lon]])
        ind, dist = self.tree.query_radius(point, r=radius_m / EARTH_RADIUS_M, return_distance=True)
        return ind[0].astype(np.int64), dist[0] * EARTH_RADIUS_M

    def within_reach(self, lat: float, lon: float) -> tuple[IntArray, FloatArray]:
        """Positions of the points whose own ``reach`` covers (lat, lon), and their distances."""
        if not self.bands:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        point = np.radians([[lat, lon]])
        found, dists = [], []
        for high, members, tree in self.bands:
            ind, dist = tree.query_radius(point, r=high / EARTH_RADIUS_M, return_distance=True)
            found.append(members[ind[0]])
            dists.append(dist[0] * EARTH_RADIUS_M)
        pos = np.concatenate(found).astype(np.int64)
        d = np.concatenate(dists)
        keep = d <= self.reach[pos]
        return pos[keep], d[keep]

    def scan(self, lat: float, lon: float, radius_m: float) -> tuple[IntArray, FloatArray]:
        """The same answer as :meth:`within` by computing every distance (the baseline of the benchmark)."""
        d = haversine_many(lat, lon, self.lat, self.lon)
        hit = np.flatnonzero(d <= radius_m)
        return hit.astype(np.int64), d[hit]


@dataclass
class Terms:
    """The soft-score terms of candidate volunteers (arrays of one length), each in [0, 1]."""

    distance: FloatArray
    rating: FloatArray
    continuity: FloatArray
    fairness: FloatArray
    reliability: FloatArray
    preference: FloatArray


def rating_term(stars_sum: Any, stars_count: Any) -> FloatArray:
    """(5 − r) / 4 with r the average elder rating shrunk towards 4★ by two imaginary ratings."""
    r = (np.asarray(stars_sum, dtype=np.float64) + 8.0) / (np.asarray(stars_count, dtype=np.float64) + 2.0)
    return np.clip((5.0 - r) / 4.0, 0.0, 1.0)


def continuity_term(served: Any) -> FloatArray:
    return 1.0 - np.minimum(np.asarray(served, dtype=np.float64), 3.0) / 3.0


def fairness_term(recent_minutes: Any) -> FloatArray:
    return np.minimum(np.asarray(recent_minutes, dtype=np.float64) / FAIRNESS_SCALE_MINUTES, 1.0)


def reliability_term(no_shows: Any, cancellations: Any, assigned: Any) -> FloatArray:
    bad = np.asarray(no_shows, dtype=np.float64) + 0.5 * np.asarray(cancellations, dtype=np.float64)
    return np.minimum(bad / (np.asarray(assigned, dtype=np.float64) + 1.0), 1.0)


def score(terms: Terms, weights: dict[str, float]) -> FloatArray:
    """The soft cost of each candidate (lower is better)."""
    total = np.zeros_like(terms.distance, dtype=np.float64)
    for key in WEIGHT_KEYS:
        total += float(weights.get(key, 0.0)) * getattr(terms, key)
    return total


def top_k(cost: FloatArray, distance: FloatArray, k: int) -> IntArray:
    """Positions of the ``k`` lowest costs, ties broken by distance, then position."""
    if len(cost) > k:
        cut = np.argpartition(cost, k - 1)[:k]
        # keep every position tied with the k-th cost, so the tie-break below sees all of them
        kth = cost[cut].max()
        cut = np.flatnonzero(cost <= kth)
    else:
        cut = np.arange(len(cost))
    order = np.lexsort((cut, distance[cut], cost[cut]))
    return cut[order][:k].astype(np.int64)


# --------------------------------------------------------------------------------------------- batch


@dataclass
class Problem:
    """One day's batch: ``n`` needs against ``m`` volunteers.

    Times are minutes from the day's local midnight. ``feasible[i, j]`` says the hard rules allow
    volunteer ``j`` for need ``i`` (reach, certificate, language, sex, availability, no clash with visits
    already booked); ``cost[i, j]`` is the full soft cost with the distance from home; ``other[i, j]`` the
    same without its distance term (used for later visits, whose distance is the added walk).
    """

    need_lat: FloatArray
    need_lon: FloatArray
    start: FloatArray
    end: FloatArray
    duration: FloatArray
    vol_lat: FloatArray
    vol_lon: FloatArray
    reach: FloatArray
    feasible: BoolArray
    cost: FloatArray
    other: FloatArray
    distance_weight: float = 1.0
    fairness_weight: float = 0.4
    max_visits: int = 1
    max_minutes: float = 600.0
    speed_m_per_min: float = 80.0

    @property
    def shape(self) -> tuple[int, int]:
        n, m = self.feasible.shape
        return int(n), int(m)


@dataclass
class Solution:
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (need, volunteer) in the order found
    legs_m: dict[int, float] = field(default_factory=dict)  # need → walk to it (from home or the previous visit)
    routes: dict[int, list[int]] = field(default_factory=dict)  # volunteer → needs in time order

    def volunteer_of(self) -> dict[int, int]:
        return dict(self.pairs)

    def total_travel_m(self, problem: Problem) -> float:
        return sum(_route_length(problem, j, route) for j, route in self.routes.items())


def problem_from_arrays(
    *,
    need_lat: Any,
    need_lon: Any,
    start: Any,
    end: Any,
    duration: Any,
    vol_lat: Any,
    vol_lon: Any,
    reach: Any,
    feasible: Any,
    other: Any,
    weights: dict[str, float] | None = None,
    max_visits: int = 1,
    max_minutes: float = 600.0,
    speed_m_per_min: float = 80.0,
    distance: Any = None,
) -> Problem:
    """Build a :class:`Problem`, computing distances and the full cost; pairs out of reach are infeasible."""
    w = weights or DEFAULT_WEIGHTS
    nl = np.asarray(need_lat, dtype=np.float64)
    nlo = np.asarray(need_lon, dtype=np.float64)
    vl = np.asarray(vol_lat, dtype=np.float64)
    vlo = np.asarray(vol_lon, dtype=np.float64)
    rch = np.asarray(reach, dtype=np.float64)
    dist = distance if distance is not None else haversine_many(nl[:, None], nlo[:, None], vl[None, :], vlo[None, :])
    feas = np.asarray(feasible, dtype=bool) & (dist <= rch[None, :])
    oth = np.asarray(other, dtype=np.float64)
    cost = oth + float(w.get("distance", 1.0)) * dist / np.maximum(rch[None, :], 1.0)
    return Problem(
        need_lat=nl,
        need_lon=nlo,
        start=np.asarray(start, dtype=np.float64),
        end=np.asarray(end, dtype=np.float64),
        duration=np.asarray(duration, dtype=np.float64),
        vol_lat=vl,
        vol_lon=vlo,
        reach=rch,
        feasible=feas,
        cost=cost,
        other=oth,
        distance_weight=float(w.get("distance", 1.0)),
        fairness_weight=float(w.get("fairness", 0.4)),
        max_visits=max_visits,
        max_minutes=max_minutes,
        speed_m_per_min=speed_m_per_min,
    )


def _route_length(p: Problem, j: int, route: Sequence[int]) -> float:
    if not route:
        return 0.0
    lats = np.concatenate([[p.vol_lat[j]], p.need_lat[list(route)]])
    lons = np.concatenate([[p.vol_lon[j]], p.need_lon[list(route)]])
    return float(haversine_many(lats[:-1], lons[:-1], lats[1:], lons[1:]).sum())


def _insertion(p: Problem, j: int, route: list[int], cand: IntArray) -> tuple[BoolArray, FloatArray, IntArray]:
    """For each candidate need: can it join volunteer ``j``'s route, the added walk, and its position."""
    c = len(cand)
    k = len(route)
    r = np.asarray(route, dtype=np.int64)
    ok = np.ones(c, dtype=bool)
    if k:
        overlap = (p.start[r][None, :] < p.end[cand][:, None]) & (p.end[r][None, :] > p.start[cand][:, None])
        ok &= ~overlap.any(axis=1)
    pos = np.searchsorted(p.start[r], p.start[cand], side="right") if k else np.zeros(c, dtype=np.int64)
    seqs = np.empty((c, k + 1), dtype=np.int64)
    for q in range(k + 1):
        before = r[q] if q < k else 0
        after = r[q - 1] if q > 0 else 0
        seqs[:, q] = np.where(q < pos, before, np.where(q == pos, cand, after))
    first = seqs[:, 0]
    total = haversine_many(p.vol_lat[j], p.vol_lon[j], p.need_lat[first], p.need_lon[first])
    t = p.start[first] + p.duration[first]
    ok &= t <= p.end[first]
    for q in range(1, k + 1):
        a, b = seqs[:, q - 1], seqs[:, q]
        d = haversine_many(p.need_lat[a], p.need_lon[a], p.need_lat[b], p.need_lon[b])
        total = total + d
        begin = np.maximum(t + d / p.speed_m_per_min, p.start[b])
        t = begin + p.duration[b]
        ok &= t <= p.end[b]
    added = total - _route_length(p, j, route)
    return ok, added, pos.astype(np.int64)


def _legs(p: Problem, j: int, route: list[int], legs: dict[int, float]) -> None:
    lat, lon = p.vol_lat[j], p.vol_lon[j]
    for i in route:
        legs[i] = float(haversine_many(lat, lon, p.need_lat[i], p.need_lon[i]))
        lat, lon = p.need_lat[i], p.need_lon[i]


def assign(cost: FloatArray) -> tuple[IntArray, IntArray]:
    """``linear_sum_assignment`` on each connected part of the feasible pairs separately.

    Needs and volunteers that share no feasible pair cannot affect each other's choice, so solving the
    parts one by one gives the same optimum as the whole matrix, much faster at city scale (towns apart).
    Returns only feasible pairs (cost < :data:`BIG`).
    """
    feas = cost < BIG
    n, m = feas.shape
    r, c = np.nonzero(feas)
    if len(r) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(r)), (r, c + n)), shape=(n + m, n + m))
    _count, labels = connected_components(graph, directed=False)
    row_groups: dict[int, list[int]] = {}
    col_groups: dict[int, list[int]] = {}
    for i in np.unique(r):
        row_groups.setdefault(int(labels[i]), []).append(int(i))
    for j in np.unique(c):
        col_groups.setdefault(int(labels[n + j]), []).append(int(j))
    out_r: list[int] = []
    out_c: list[int] = []
    for label, rows in row_groups.items():
        cols = col_groups[label]
        if len(rows) == 1 or len(cols) == 1:
            sub = cost[np.ix_(rows, cols)]
            a, b = np.unravel_index(int(np.argmin(sub)), sub.shape)
            ra, cb = np.array([a]), np.array([b])
        else:
            ra, cb = linear_sum_assignment(cost[np.ix_(rows, cols)])
        for a, b in zip(ra, cb, strict=True):
            if cost[rows[a], cols[b]] < BIG:
                out_r.append(rows[a])
                out_c.append(cols[b])
    return np.array(out_r, dtype=np.int64), np.array(out_c, dtype=np.int64)


def solve(p: Problem) -> Solution:
    """The batch assignment (see the module docstring): round 1 exact, later rounds by insertion."""
    n, m = p.shape
    sol = Solution()
    if n == 0 or m == 0:
        return sol
    open_needs = np.ones(n, dtype=bool)
    minutes = np.zeros(m)
    for round_no in range(max(1, p.max_visits)):
        rows = np.flatnonzero(open_needs)
        if round_no == 0:
            cols = np.arange(m)
            cost = np.where(p.feasible, p.cost, BIG)
        else:
            cols = np.array(
                [j for j, route in sol.routes.items() if len(route) == round_no and minutes[j] < p.max_minutes],
                dtype=np.int64,
            )
            if len(rows) == 0 or len(cols) == 0:
                break
            cost = np.full((n, m), BIG)
            for jj in cols:
                jv = int(jj)
                cand = rows[p.feasible[rows, jv] & (minutes[jv] + p.duration[rows] <= p.max_minutes)]
                if len(cand) == 0:
                    continue
                ok, added, _pos = _insertion(p, jv, sol.routes[jv], cand)
                good = cand[ok]
                cost[good, jv] = (
                    p.other[good, jv]
                    + p.distance_weight * added[ok] / max(p.reach[jv], 1.0)
                    + p.fairness_weight * minutes[jv] / FAIRNESS_SCALE_MINUTES
                )
        if len(rows) == 0 or len(cols) == 0:
            break
        ri, ci = assign(cost[np.ix_(rows, cols)])
        found = False
        for a, b in zip(ri, ci, strict=True):
            i, j = int(rows[a]), int(cols[b])
            route = sol.routes.setdefault(j, [])
            route.append(i)
            route.sort(key=lambda x: (p.start[x], x))
            minutes[j] += p.duration[i]
            open_needs[i] = False
            sol.pairs.append((i, j))
            found = True
        if not found:
            break
    for j, route in sol.routes.items():
        _legs(p, j, route, sol.legs_m)
    return sol


def greedy(p: Problem, order: Sequence[int] | None = None) -> Solution:
    """Nearest-first: needs by window start, each to the volunteer whose walk to it is shortest."""
    n, m = p.shape
    sol = Solution()
    minutes = np.zeros(m)
    sequence = order if order is not None else sorted(range(n), key=lambda i: (p.start[i], i))
    for i in sequence:
        cols = np.flatnonzero(p.feasible[i] & (minutes + p.duration[i] <= p.max_minutes))
        best: tuple[float, int] | None = None
        for jj in cols:
            jv = int(jj)
            route = sol.routes.get(jv, [])
            if len(route) >= p.max_visits:
                continue
            ok, added, _pos = _insertion(p, jv, route, np.array([i], dtype=np.int64))
            if ok[0] and (best is None or (float(added[0]), jv) < best):
                best = (float(added[0]), jv)
        if best is None:
            continue
        j = best[1]
        route = sol.routes.setdefault(j, [])
        route.append(i)
        route.sort(key=lambda x: (p.start[x], x))
        minutes[j] += p.duration[i]
        sol.pairs.append((i, j))
    for j, route in sol.routes.items():
        _legs(p, j, route, sol.legs_m)
    return sol


def gini(values: Any) -> float:
    """Gini coefficient of non-negative values (0 = everyone equal, →1 = one person has everything)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    if len(x) == 0 or x.sum() <= 0:
        return 0.0
    n = len(x)
    cum = np.cumsum(x)
    return float((n + 1 - 2 * (cum / cum[-1]).sum()) / n)
