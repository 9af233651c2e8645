"""The numeric core: the index equals a full scan, the batch optimum equals brute force on small random
cases, later rounds respect windows and walking time, greedy nearest-first is beaten where it should be."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from timebank.matching import engine


def random_problem(rng: np.random.Generator, n: int, m: int, *, max_visits: int = 1) -> engine.Problem:
    lat0, lon0 = 22.52, 113.38
    start = rng.choice([480, 600, 840, 960], n).astype(float)
    return engine.problem_from_arrays(
        need_lat=lat0 + rng.uniform(-0.01, 0.01, n),
        need_lon=lon0 + rng.uniform(-0.01, 0.01, n),
        start=start,
        end=start + 120.0,
        duration=np.full(n, 60.0),
        vol_lat=lat0 + rng.uniform(-0.01, 0.01, m),
        vol_lon=lon0 + rng.uniform(-0.01, 0.01, m),
        reach=np.full(m, 1500.0),
        feasible=rng.random((n, m)) < 0.6,
        other=rng.uniform(0, 2, (n, m)),
        max_visits=max_visits,
    )


def brute_force(p: engine.Problem) -> tuple[int, float]:
    """(most needs matched, least total cost among those) over every one-to-one partial assignment."""
    n, m = p.shape
    best = (0, 0.0)
    for choice in itertools.product(range(-1, m), repeat=n):
        used = [j for j in choice if j >= 0]
        if len(used) != len(set(used)):
            continue
        if any(j >= 0 and not p.feasible[i, j] for i, j in enumerate(choice)):
            continue
        cost = sum(p.cost[i, j] for i, j in enumerate(choice) if j >= 0)
        key = (len(used), -cost)
        if key > (best[0], -best[1]):
            best = (len(used), cost)
    return best


@pytest.mark.parametrize("seed", range(25))
def test_batch_equals_the_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    p = random_problem(rng, int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    sol = engine.solve(p)
    matched, cost = brute_force(p)
    assert len(sol.pairs) == matched
    assert sum(p.cost[i, j] for i, j in sol.pairs) == pytest.approx(cost)
    assert all(p.feasible[i, j] for i, j in sol.pairs)
    assert len({j for _, j in sol.pairs}) == len(sol.pairs)


def test_optimiser_beats_greedy_nearest_first_on_the_classic_case():
    # need 0 is nearest to volunteer 0, but need 1 can only be served by volunteer 0
    p = engine.problem_from_arrays(
        need_lat=[22.520, 22.530],
        need_lon=[113.380, 113.380],
        start=[600.0, 600.0],
        end=[720.0, 720.0],
        duration=[60.0, 60.0],
        vol_lat=[22.5201, 22.5150],
        vol_lon=[113.380, 113.380],
        reach=[2000.0, 1000.0],
        feasible=[[True, True], [True, False]],
        other=np.zeros((2, 2)),
    )
    assert len(engine.greedy(p).pairs) == 1
    assert sorted(engine.solve(p).pairs) == [(0, 1), (1, 0)]


def test_several_visits_a_day_respect_windows_and_walking_time():
    lat, lon = 22.52, 113.38
    # three needs near one volunteer: 09-10, 10-11 (1.17 km from the first), 09:30-10:30 (overlaps both)
    p = engine.problem_from_arrays(
        need_lat=[lat, lat + 0.0105, lat],
        need_lon=[lon, lon, lon + 0.001],
        start=[540.0, 600.0, 570.0],
        end=[600.0, 660.0, 630.0],
        duration=[60.0, 45.0, 60.0],
        vol_lat=[lat],
        vol_lon=[lon],
        reach=[1500.0],
        feasible=np.ones((3, 1), dtype=bool),
        other=np.zeros((3, 1)),
        max_visits=3,
        speed_m_per_min=80.0,
    )
    sol = engine.solve(p)
    # 09:00-10:00 at need 0, 15 minutes' walk, 10:15-11:00 at need 1; need 2 overlaps both windows
    assert sorted(i for i, _ in sol.pairs) == [0, 1]
    assert sol.routes[0] == [0, 1]
    assert sol.legs_m[1] == pytest.approx(1168, abs=5)
    slow = engine.Problem(**{**p.__dict__, "speed_m_per_min": 40.0})  # 30 minutes' walk: 45 min no longer fit
    assert len(engine.solve(slow).pairs) == 1
    one = engine.Problem(**{**p.__dict__, "max_visits": 1})
    assert len(engine.solve(one).pairs) == 1


@pytest.mark.parametrize("seed", range(10))
def test_later_rounds_only_add_feasible_routes(seed):
    rng = np.random.default_rng(100 + seed)
    p = random_problem(rng, 12, 4, max_visits=3)
    sol = engine.solve(p)
    for j, route in sol.routes.items():
        assert len(route) <= 3
        t = -1e9
        for a, b in itertools.pairwise(route):
            assert p.end[a] <= p.start[b] or p.start[a] >= p.end[b]  # windows never overlap
        for k, i in enumerate(route):
            assert p.feasible[i, j]
            walk = (
                0.0
                if k == 0
                else engine.haversine_many(
                    *[p.need_lat[route[k - 1]], p.need_lon[route[k - 1]]], p.need_lat[i], p.need_lon[i]
                )
                / p.speed_m_per_min
            )
            begin = max(t + walk, p.start[i])
            t = begin + p.duration[i]
            assert t <= p.end[i] + 1e-9
    assert len(sol.pairs) >= len(engine.solve(engine.Problem(**{**p.__dict__, "max_visits": 1})).pairs)


def test_the_index_finds_exactly_what_a_full_scan_finds():
    rng = np.random.default_rng(7)
    n = 5000
    idx = engine.VolunteerIndex(np.arange(n), 22.5 + rng.uniform(-0.2, 0.2, n), 113.4 + rng.uniform(-0.2, 0.2, n))
    for _ in range(20):
        lat, lon = 22.5 + rng.uniform(-0.2, 0.2), 113.4 + rng.uniform(-0.2, 0.2)
        a, da = idx.within(lat, lon, 1500)
        b, db = idx.scan(lat, lon, 1500)
        assert sorted(a.tolist()) == sorted(b.tolist())
        assert np.allclose(np.sort(da), np.sort(db))
    reach = rng.choice([800.0, 1500.0, 2500.0, 20_000.0], n)
    banded = engine.VolunteerIndex(np.arange(n), idx.lat, idx.lon, reach=reach)
    for _ in range(20):
        lat, lon = 22.5 + rng.uniform(-0.2, 0.2), 113.4 + rng.uniform(-0.2, 0.2)
        a, _da = banded.within_reach(lat, lon)
        d = engine.haversine_many(lat, lon, idx.lat, idx.lon)
        assert sorted(a.tolist()) == np.flatnonzero(d <= reach).tolist()
    empty = engine.VolunteerIndex([], [], [])
    assert len(empty.within_reach(22.5, 113.4)[0]) == 0
    assert len(empty.within(22.5, 113.4, 1500)[0]) == 0
    assert len(idx.within(22.5, 113.4, 0)[0]) == 0


def test_top_k_breaks_ties_by_distance():
    cost = np.array([1.0, 0.5, 0.5, 2.0, 0.5])
    dist = np.array([10.0, 300.0, 100.0, 5.0, 200.0])
    assert engine.top_k(cost, dist, 2).tolist() == [2, 4]
    assert engine.top_k(cost, dist, 10).tolist() == [2, 4, 1, 0, 3]


def test_gini():
    assert engine.gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert engine.gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert engine.gini([]) == 0.0
    assert engine.gini([0, 0]) == 0.0


def test_empty_problems():
    p = random_problem(np.random.default_rng(1), 0, 3)
    assert engine.solve(p).pairs == []
    q = random_problem(np.random.default_rng(1), 3, 0)
    assert engine.solve(q).pairs == []
    assert engine.greedy(q).pairs == []
