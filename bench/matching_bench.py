"""Matching benchmark (issue 5): the top-20 query, the daily batch, and optimiser vs greedy nearest-first.

    .venv/bin/python bench/matching_bench.py [--volunteers 100000] [--queries 300] [--out bench/RESULTS.md]

Run by ``make bench`` (bench/run_all.sh runs every bench/*_bench.py). Everything is in memory (no
database): a synthetic Zhongshan whose volunteers live around the 23 towns of
timebank/places/data/zhongshan_towns.csv in proportion to their population, and it times the same code
the app uses (timebank.matching.engine: BallTree index, score, top_k, solve, greedy).

1. Top-20 candidates among 100,000 volunteers: index query + hard filters + soft score + top 20, against
   (a) the naive full scan, a Python loop over every volunteer (places.geo.haversine_m and the same
   filters), and (b) a vectorised numpy full scan, both in the same run; the answers are checked equal.
2. Batch dispatch of 2,000 needs x 2,000 volunteers (one town-sized area): building the cost matrix and
   solving (one visit per volunteer, and two a day).
3. Evaluation on a city-scale synthetic day (20,000 volunteers, as ``seed_demo --scale city``; the seeded
   demo city is not used because seeding it takes minutes and its needs are historical, not one open
   day): optimiser vs greedy nearest-first on total walking distance, share of needs matched and the
   Gini of hours across the volunteers who could serve that day.

Writes a section between markers in bench/RESULTS.md (replacing an earlier one; other sections kept).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")

from timebank.matching import engine  # noqa: E402 - after sys.path
from timebank.places.geo import haversine_m  # noqa: E402

BEGIN, END = "<!-- matching:begin -->", "<!-- matching:end -->"
TOWNS = ROOT / "timebank" / "places" / "data" / "zhongshan_towns.csv"
RADIUS = 1500.0
WEIGHTS = engine.DEFAULT_WEIGHTS


def towns() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lat, lon, pop = [], [], []
    with open(TOWNS, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            people = row["pop2020_census"] or row["pop_end2021"] or row["pop_end2022"] or "50000"
            lat.append(float(row["lat"]))
            lon.append(float(row["lon"]))
            pop.append(float(people))
    p = np.array(pop)
    return np.array(lat), np.array(lon), p / p.sum()


def place(rng: np.random.Generator, n: int, spread_m: float = 2500.0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` homes around the towns, chosen by population, spread normally (sigma ``spread_m``)."""
    tlat, tlon, w = towns()
    k = rng.choice(len(w), size=n, p=w)
    lat = tlat[k] + rng.normal(0, spread_m, n) / 111_000
    lon = tlon[k] + rng.normal(0, spread_m, n) / (111_000 * np.cos(np.radians(tlat[k])))
    return lat, lon


class City:
    """Synthetic volunteers with everything the hard filters and the score read."""

    def __init__(self, rng: np.random.Generator, n: int):
        self.lat, self.lon = place(rng, n)
        self.ids = np.arange(n)
        self.reach = rng.choice([1000.0, 1500.0, 1500.0, 1500.0, 2000.0, 3000.0], n)
        self.yue = rng.random(n) < 0.8
        self.female = rng.random(n) < 0.6
        self.barred = rng.random(n) < 0.01
        self.cert_elderly = rng.random(n) < 0.12
        self.morning = rng.random(n) < 0.45  # free 08:00-12:00 that day
        self.afternoon = rng.random(n) < 0.45  # free 13:30-18:00
        self.stars_sum = rng.integers(0, 40, n)
        self.stars_n = np.minimum(self.stars_sum // 4, 10)
        self.recent_min = np.round(rng.gamma(1.2, 300, n) * (rng.random(n) < 0.6))
        self.no_shows = rng.poisson(0.1, n)
        self.assigned = rng.poisson(6, n)
        self.index = engine.VolunteerIndex(self.ids, self.lat, self.lon, reach=self.reach)

    def ok(self, pos: np.ndarray, need: dict[str, float | bool]) -> np.ndarray:
        m = ~self.barred[pos]
        if need["yue"]:
            m &= self.yue[pos]
        if need["female"]:
            m &= self.female[pos]
        if need["cert"]:
            m &= self.cert_elderly[pos]
        m &= self.morning[pos] if need["am"] else self.afternoon[pos]
        return m

    def terms(self, pos: np.ndarray, dist: np.ndarray) -> engine.Terms:
        return engine.Terms(
            distance=dist / self.reach[pos],
            rating=engine.rating_term(self.stars_sum[pos], self.stars_n[pos]),
            continuity=np.ones(len(pos)),
            fairness=engine.fairness_term(self.recent_min[pos]),
            reliability=engine.reliability_term(self.no_shows[pos], 0, self.assigned[pos]),
            preference=np.full(len(pos), 0.5),
        )

    def top20_index(self, lat: float, lon: float, need: dict) -> list[int]:
        pos, dist = self.index.within_reach(lat, lon)
        keep = self.ok(pos, need)
        pos, dist = pos[keep], dist[keep]
        cost = engine.score(self.terms(pos, dist), WEIGHTS)
        return [int(self.ids[pos[k]]) for k in engine.top_k(cost, dist, 20)]

    def top20_numpy_scan(self, lat: float, lon: float, need: dict) -> list[int]:
        dist = engine.haversine_many(lat, lon, self.lat, self.lon)
        pos = np.flatnonzero((dist <= self.reach) & self.ok(np.arange(len(self.ids)), need))
        d = dist[pos]
        cost = engine.score(self.terms(pos, d), WEIGHTS)
        return [int(self.ids[pos[k]]) for k in engine.top_k(cost, d, 20)]

    def top20_naive(self, lat: float, lon: float, need: dict) -> list[int]:
        """Every volunteer, one by one, in plain Python (the naive full scan)."""
        found = []
        lats, lons, reach = self.lat.tolist(), self.lon.tolist(), self.reach.tolist()
        barred, yue, female = self.barred.tolist(), self.yue.tolist(), self.female.tolist()
        cert, free = self.cert_elderly.tolist(), (self.morning if need["am"] else self.afternoon).tolist()
        for k in range(len(lats)):
            d = haversine_m(lat, lon, lats[k], lons[k])
            if d > reach[k] or barred[k] or not free[k]:
                continue
            if (need["yue"] and not yue[k]) or (need["female"] and not female[k]) or (need["cert"] and not cert[k]):
                continue
            found.append((k, d))
        pos = np.array([f[0] for f in found], dtype=np.int64)
        dist = np.array([f[1] for f in found])
        cost = engine.score(self.terms(pos, dist), WEIGHTS)
        return [int(self.ids[pos[k]]) for k in engine.top_k(cost, dist, 20)]


def random_need(rng: np.random.Generator) -> dict:
    return {
        "yue": bool(rng.random() < 0.3),
        "female": bool(rng.random() < 0.1),
        "cert": bool(rng.random() < 0.1),
        "am": bool(rng.random() < 0.5),
    }


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def bench_top20(n: int, queries: int, naive_queries: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    city = City(rng, n)
    build_s = time.perf_counter() - t0
    lat, lon = place(rng, queries)
    needs = [random_need(rng) for _ in range(queries)]
    for q in range(10):  # warm-up
        city.top20_index(lat[q], lon[q], needs[q])
    t_idx, t_np, t_naive, sizes = [], [], [], []
    mismatches = 0
    for q in range(queries):
        s = time.perf_counter()
        a = city.top20_index(lat[q], lon[q], needs[q])
        t_idx.append(time.perf_counter() - s)
        sizes.append(len(a))
        s = time.perf_counter()
        b = city.top20_numpy_scan(lat[q], lon[q], needs[q])
        t_np.append(time.perf_counter() - s)
        mismatches += a != b
        if q < naive_queries:
            s = time.perf_counter()
            c = city.top20_naive(lat[q], lon[q], needs[q])
            t_naive.append(time.perf_counter() - s)
            mismatches += a != c
    return {
        "n": n,
        "queries": queries,
        "naive_queries": naive_queries,
        "build_s": build_s,
        "idx_p50": pct(t_idx, 50) * 1000,
        "idx_p95": pct(t_idx, 95) * 1000,
        "np_p50": pct(t_np, 50) * 1000,
        "np_p95": pct(t_np, 95) * 1000,
        "naive_p50": pct(t_naive, 50) * 1000,
        "naive_p95": pct(t_naive, 95) * 1000,
        "mismatches": mismatches,
        "mean_found": float(np.mean(sizes)),
    }


def day_problem(
    rng: np.random.Generator, needs: int, vols: int, *, area_m: float | None, max_visits: int
) -> tuple[engine.Problem, np.ndarray]:
    """A day's problem. ``area_m``: all in one square of that side (a town), else the whole city."""
    if area_m is None:
        nlat, nlon = place(rng, needs)
        city = City(rng, vols)
    else:
        tlat, tlon = 22.5220, 113.3780  # 石岐街道
        half = area_m / 2
        nlat = tlat + rng.uniform(-half, half, needs) / 111_000
        nlon = tlon + rng.uniform(-half, half, needs) / 102_500
        city = City(rng, vols)
        city.lat = tlat + rng.uniform(-half, half, vols) / 111_000
        city.lon = tlon + rng.uniform(-half, half, vols) / 102_500
    am = rng.random(needs) < 0.5
    start = np.where(am, rng.choice([480.0, 540.0, 600.0], needs), rng.choice([840.0, 900.0, 960.0], needs))
    start = start + rng.choice([0.0, 30.0], needs)
    end = start + 120.0
    duration = rng.choice([45.0, 60.0, 60.0, 90.0], needs)
    flags = [random_need(rng) | {"am": bool(a)} for a in am]
    feasible = np.zeros((needs, vols), dtype=bool)
    other = np.zeros((needs, vols))
    distance = engine.haversine_many(nlat[:, None], nlon[:, None], city.lat[None, :], city.lon[None, :])
    allv = np.arange(vols)
    base = engine.score(city.terms(allv, np.zeros(vols)), {**WEIGHTS, "distance": 0.0})
    for i, f in enumerate(flags):
        feasible[i] = city.ok(allv, f)
        other[i] = base
    if area_m is None:  # city-wide: keep only the volunteers who could serve at least one need
        cols = np.flatnonzero((feasible & (distance <= city.reach[None, :])).any(axis=0))
        feasible, other, distance = feasible[:, cols], other[:, cols], distance[:, cols]
        city.lat, city.lon, city.reach, city.recent_min = (
            city.lat[cols],
            city.lon[cols],
            city.reach[cols],
            city.recent_min[cols],
        )
    p = engine.problem_from_arrays(
        need_lat=nlat,
        need_lon=nlon,
        start=start,
        end=end,
        duration=duration,
        vol_lat=city.lat,
        vol_lon=city.lon,
        reach=city.reach,
        feasible=feasible,
        other=other,
        weights=WEIGHTS,
        max_visits=max_visits,
        distance=distance,
    )
    return p, city.recent_min


def bench_batch(seed: int) -> dict:
    out = {}
    for visits in (1, 2):
        rng = np.random.default_rng(seed)
        times = []
        for _ in range(3):
            s = time.perf_counter()
            p, _recent = day_problem(rng, 2000, 2000, area_m=8000, max_visits=visits)
            built = time.perf_counter() - s
            sol = engine.solve(p)
            times.append((time.perf_counter() - s, built, len(sol.pairs), int(p.feasible.sum())))
        best = min(times)
        out[visits] = {
            "total_s": best[0],
            "build_s": best[1],
            "matched": best[2],
            "feasible": best[3],
            "median_s": sorted(t[0] for t in times)[1],
        }
    return out


def evaluate(seed: int, needs: int, vols: int) -> dict:
    rng = np.random.default_rng(seed)
    p, recent = day_problem(rng, needs, vols, area_m=None, max_visits=2)
    pool = np.flatnonzero(p.feasible.any(axis=0))  # every column already could serve (city-wide filter)
    rows = {}
    only_distance = engine.Problem(**{**p.__dict__, "cost": p.cost - p.other, "other": np.zeros_like(p.other)})
    methods = (
        ("optimiser, default weights (linear_sum_assignment, 2 rounds)", engine.solve, p),
        ("optimiser, distance term only", engine.solve, only_distance),
        ("greedy nearest-first", engine.greedy, p),
    )
    for name, solver, problem in methods:
        s = time.perf_counter()
        sol = solver(problem)
        took = time.perf_counter() - s
        today = np.zeros(p.shape[1])
        for i, j in sol.pairs:
            today[j] += p.duration[i]
        rows[name] = {
            "seconds": took,
            "matched": len(sol.pairs) / p.shape[0],
            "travel_km": sol.total_travel_m(p) / 1000,
            "km_per_visit": sol.total_travel_m(p) / 1000 / max(1, len(sol.pairs)),
            "gini_30d": engine.gini((recent + today)[pool]),
            "gini_today": engine.gini(today[pool]),
            "volunteers": len(sol.routes),
            "second_visits": sum(1 for r in sol.routes.values() if len(r) > 1),
        }
    return {"needs": needs, "vols": vols, "pool": len(pool), "rows": rows, "gini_before": engine.gini(recent[pool])}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(top: dict, batch: dict, ev: dict, command: str, started: str, seconds: float) -> str:
    r50 = top["naive_p50"] / top["idx_p50"]
    r95 = top["naive_p95"] / top["idx_p95"]
    n50 = top["np_p50"] / top["idx_p50"]
    lines = [
        BEGIN,
        "# Matching benchmark (issue 5)",
        "",
        f"Produced by **`{command}`** on {started} (UTC), {seconds:.0f} s in all; in memory (no database), "
        f"Python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs shared with other sessions "
        f"(load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}). "
        "Script: `bench/matching_bench.py` (also run alone: `.venv/bin/python bench/matching_bench.py`).",
        "",
        "Synthetic city: volunteers' homes around the 23 towns of `timebank/places/data/zhongshan_towns.csv` in "
        "proportion to the 2020 census population (normal spread, sigma 2.5 km); radius 1,000-3,000 m (mostly the "
        "1,500 m policy default); 80 % speak Cantonese, 60 % women, 12 % hold an elderly-care certificate, 1 % barred, "
        "45 % free in the morning and 45 % in the afternoon of the day. Needs: 30 % ask for Cantonese, 10 % for a "
        "woman, 10 % need the certificate.",
        "",
        "## Against the targets",
        "",
        "| measure | result | baseline (same run) | ratio | target | verdict |",
        "|---|---|---|---|---|---|",
        f"| Top-20 candidates among {top['n']:,} volunteers, p95 | {top['idx_p95']:.2f} ms | — | — | < 20 ms | "
        f"{verdict(top['idx_p95'] < 20)} |",
        f"| Top-20, speed-up over the naive full scan (Python loop over every volunteer), p50 / p95 | "
        f"{top['idx_p50']:.2f} / {top['idx_p95']:.2f} ms | {top['naive_p50']:.0f} / {top['naive_p95']:.0f} ms | "
        f"**{r50:.0f}× / {r95:.0f}×** | ≥ 50× | {verdict(min(r50, r95) >= 50)} |",
        f"| Top-20, speed-up over a vectorised numpy full scan, p50 (a stronger baseline) | {top['idx_p50']:.2f} ms | "
        f"{top['np_p50']:.2f} ms | {n50:.1f}× | — | — |",
        f"| Batch dispatch 2,000 needs × 2,000 volunteers, one visit each (cost matrix + solve, best of 3) | "
        f"{batch[1]['total_s']:.2f} s | — | — | < 1.5 s | {verdict(batch[1]['total_s'] < 1.5)} |",
        f"| Batch dispatch 2,000 × 2,000, up to two visits a day (2 rounds, best of 3) | "
        f"{batch[2]['total_s']:.2f} s | — | — | < 1.5 s | {verdict(batch[2]['total_s'] < 1.5)} |",
        "",
        f"Top-20: {top['queries']} queries at population-weighted places ({top['naive_queries']} of them also by "
        f"the naive scan); on average {top['mean_found']:.1f} candidates returned; index answers differing from the "
        f"scans: **{top['mismatches']}**. Building the BallTree over {top['n']:,} homes: "
        f"{top['build_s'] * 1000:.0f} ms "
        "(the app rebuilds it only when a volunteer joins, moves or changes radius: `selectors.index_stamp`).",
        f"Batch: the area is an 8 km square around 石岐 (a dense town), so {batch[1]['feasible']:,} of the 4,000,000 "
        f"pairs are feasible; matched {batch[1]['matched']:,} needs with one visit each and {batch[2]['matched']:,} "
        f"with two; building the cost matrix took {batch[1]['build_s']:.2f} s of the total (median of 3: "
        f"{batch[1]['median_s']:.2f} s / {batch[2]['median_s']:.2f} s).",
        "",
        "Why a BallTree: at 100,000 homes a radius query touches a few hundred points instead of all of them. "
        "PostGIS would need a new extension in production and a database round trip per query (the index lives in "
        "the web process here and costs a few MB); H3 cells would need a new dependency and a ring of cells plus an "
        "exact distance check for the same answer. A lat/lon bounding-box SQL prefilter (as "
        "`care.selectors.open_needs_near` does) was not measured here: it needs the database; at the city's 20,000 "
        "volunteers it is one indexed range scan per query, still a round trip plus the per-row filters.",
        "",
        f"## Optimiser against greedy nearest-first ({ev['needs']:,} needs, {ev['vols']:,} volunteers, one day)",
        "",
        "Same feasibility for both (hard filters, reach, morning/afternoon availability, up to two visits a day with "
        "walking between them at 80 m/min, windows never overlapping). Greedy takes the needs by window start and "
        "gives each to the volunteer with the shortest added walk. Gini over the "
        f"{ev['pool']:,} volunteers who could serve at least one need (before the day: {ev['gini_before']:.3f}).",
        "",
        "| method | needs matched | total walking | per visit | Gini of hours (30 days + today) | Gini of today's "
        "hours | volunteers used | with 2 visits | time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in ev["rows"].items():
        lines.append(
            f"| {name} | {row['matched']:.1%} | {row['travel_km']:,.0f} km | {row['km_per_visit']:.2f} km | "
            f"{row['gini_30d']:.3f} | {row['gini_today']:.3f} | {row['volunteers']:,} | {row['second_visits']:,} | "
            f"{row['seconds']:.2f} s |"
        )
    lines += [
        "",
        "Reading: the optimiser first maximises the number of needs served (infeasible pairs cost more than all "
        "feasible ones together), then the summed soft score, in which distance (relative to each volunteer's reach) "
        "is one term among rating, fairness and reliability; with the default weights it trades walking for fairer "
        "hours and better-rated, more reliable volunteers. The 'distance term only' row is the same solver with the "
        "other weights at zero. The seeded demo city (`seed_demo --scale city`) was not used: seeding takes "
        "minutes and holds a year of past visits, not one open day; the synthetic day uses the same town populations.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write(out: Path, section: str) -> None:
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    out.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--volunteers", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--naive-queries", type=int, default=30)
    ap.add_argument("--eval-needs", type=int, default=2000)
    ap.add_argument("--eval-volunteers", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"), help="'' = print only")
    ap.add_argument("--seconds", type=float, default=None, help="ignored (accepted for make bench's BENCH_ARGS)")
    args = ap.parse_args()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    print("matching: top-20 queries …", flush=True)
    top = bench_top20(args.volunteers, args.queries, args.naive_queries, args.seed)
    print(top, flush=True)
    print("matching: batch 2,000 x 2,000 …", flush=True)
    batch = bench_batch(args.seed)
    print(batch, flush=True)
    print("matching: optimiser vs greedy …", flush=True)
    ev = evaluate(args.seed, args.eval_needs, args.eval_volunteers)
    print(ev, flush=True)
    command = os.environ.get("BENCH_COMMAND") or "make bench"
    if "matching_bench" not in command and "make bench" not in command:
        command = ".venv/bin/python bench/matching_bench.py"
    section = report(top, batch, ev, command, started, time.perf_counter() - t0)
    print(section)
    if args.out:
        write(Path(args.out), section)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
