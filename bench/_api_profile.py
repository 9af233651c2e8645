"""In-process profile for bench/api_bench.py: where one request's time goes (cProfile + SQL count).

    .venv/bin/python bench/_api_profile.py TARGETS_CONFIRM TARGETS_BALANCE [TARGETS_WRITE] [--n 20]

Statements are counted as Django's cursor sees them: BEGIN and COMMIT of a write are not among them (add 2).

Sends each request through Django's full stack (middleware, django-ninja, auth, the care and ledger
services) with the test client, on the benchmark's database, after one warm-up request. Prints JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")

BUCKETS = [  # (label, substring of the profiled function's file) - first match wins, for tottime
    ("PostgreSQL: connecting and round trips (psycopg, waiting on the server)", "psycopg"),
    ("Django ORM: building SQL, model instances", "django/db"),
    ("django-ninja + pydantic: parsing, validation, response schema", "ninja"),
    ("django-ninja + pydantic: parsing, validation, response schema", "pydantic"),
    ("Django request/response, middleware, URL resolving", "django/"),
    ("Time Bank code (services, selectors, policies)", "/timebank/"),
]


def lines(path: str) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return [tuple(line.split()) for line in fh if line.strip()]  # type: ignore[misc]


def profile(client, method: str, targets: list[tuple[str, str]], n: int) -> dict:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def send(path: str, token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        call = client.post if method == "POST" else client.get
        return call(path, headers=headers, content_type="application/json").status_code

    send(*targets[0])  # warm-up (imports, URL resolver, caches); not counted
    prof = cProfile.Profile()
    statuses: list[int] = []
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        prof.enable()
        for path, token in targets[1 : n + 1]:
            statuses.append(send(path, token))
        prof.disable()
        wall = time.perf_counter() - t0
    sql_s = sum(float(q.get("time") or 0) for q in ctx.captured_queries)
    st = pstats.Stats(prof)
    total = sum(v[2] for v in st.stats.values())  # type: ignore[attr-defined]
    buckets: dict[str, float] = {}
    for (file, _line, _fn), (_cc, _nc, tt, _ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        label = next((lab for lab, key in BUCKETS if key in file), "other (stdlib, C builtins)")
        buckets[label] = buckets.get(label, 0.0) + tt
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(r"timebank/(?!.*tests)", 18)
    top = [ln for ln in out.getvalue().splitlines() if "timebank/" in ln][:18]
    k = len(statuses)
    return {
        "requests": k,
        "statuses": sorted(set(statuses)),
        "wall_ms_per_request": 1000 * wall / k,
        "profiled_ms_per_request": 1000 * total / k,
        "queries_per_request": len(ctx.captured_queries) / k,
        "sql_ms_per_request": 1000 * sql_s / k,
        "buckets_ms_per_request": {b: round(1000 * s / k, 2) for b, s in sorted(buckets.items(), key=lambda x: -x[1])},
        "top_cumulative": top,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("confirm")
    ap.add_argument("balance")
    ap.add_argument("write", nargs="?", default="", help="the baseline write's targets (POST /api/v1/bench/write)")
    ap.add_argument("--n", type=int, default=20)
    args = ap.parse_args()
    import django

    django.setup()
    from django.test import Client
    from django.utils import timezone

    from timebank.api.models import ApiToken

    # As under steady load, every token was used within the minute: no request below records its use (an
    # UPDATE once a minute per token, see api.services.token_touch), so the statement counts are per request.
    ApiToken.objects.update(last_used_at=timezone.now())
    client = Client()
    client.get("/api/v1/health")
    t0 = time.perf_counter()
    for _ in range(200):
        client.get("/api/v1/health")
    health_ms = 1000 * (time.perf_counter() - t0) / 200
    result = {
        "health_ms": health_ms,
        "confirm": profile(client, "POST", lines(args.confirm), args.n),
        "balance": profile(client, "GET", lines(args.balance), args.n),
    }
    if args.write:
        result["write"] = profile(client, "POST", lines(args.write), args.n)
    print("PROFILE " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
