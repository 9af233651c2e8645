#!/usr/bin/env python
"""Ledger benchmark (issue 3): Time Bank's ledger against pgbench and django-hordak, in one run, on PostgreSQL.

Run by ``make bench`` (bench/run_all.sh) with the project's virtualenv:

    .venv/bin/python bench/ledger_bench.py [--seconds 10] [--residents 1000] [--out bench/RESULTS.md]

It drops and recreates its own scratch databases on the server at $BENCH_PG (default
postgres://postgres@127.0.0.1:5432): ``tb_bench`` (Time Bank), ``tb_bench_pgbench`` (pgbench's TPC-B) and
``tb_bench_hordak`` (django-hordak, in its own virtualenv bench/.venv-hordak, created here when missing).

Measured, each as a ratio against a baseline measured in the same run:
  a. single postings/s through the service layer with 1, 4 and 16 writer *processes*: government-paid
     service credits to different volunteers (``service_credit``), plain transfers between residents
     (``transfer_post``) and donations to the public pool (``donate``, all writers on one cached row);
  b. pgbench's built-in TPC-B-like script at the same client counts (baseline for a and c);
  c. ``batch_post`` of 1,000 transfers per batch, 1 and 4 writers;
  d. django-hordak: the same posting shapes with the same concurrency, then (after loading exactly the
     Time Bank's transfers into it) balance reads for 1,000 accounts and the last-100-entries statement
     with running balance of the busiest accounts; the same reads on the Time Bank's selectors.
Results: a table on standard output and bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import re
import shlex
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# BENCH_DB_PREFIX: another name for the scratch databases (two checkouts benchmarking on one server at once)
_DB = os.environ.get("BENCH_DB_PREFIX", "tb_bench")
DB_TB, DB_PGBENCH, DB_HORDAK = _DB, f"{_DB}_pgbench", f"{_DB}_hordak"
HORDAK_VENV = BENCH / ".venv-hordak"
HORDAK_PY = HORDAK_VENV / "bin" / "python"
HORDAK_REQS = ["Django~=5.2.8", "psycopg[binary]~=3.2", "django-hordak==2.0.0"]
PREFIX = "基准"  # names of the benchmark's residents start with it
CLIENTS = (1, 4, 16)

TARGETS = {
    "single": 1.5,  # single postings ≥ 1.5 × django-hordak with the same shape at 16 writers (issue 12)
    "batch": 5.0,  # batch posting ≥ 5 × pgbench tps
    "balance": 3.0,  # balance reads ≥ 3 × django-hordak
    "single_pgbench": 0.0,  # single postings ÷ pgbench tps at 16 clients: reported, no target since issue 12
    "statement": 100.0,  # statement of the busiest account ≥ 100 × faster than django-hordak's
}

os.environ["DATABASE_URL"] = f"{PG}/{DB_TB}"
os.environ["HORDAK_DATABASE_URL"] = f"{PG}/{DB_HORDAK}"
os.environ["DJANGO_SETTINGS_MODULE"] = "timebank.settings"
os.environ["BENCH_RESIDENT_PREFIX"] = PREFIX
os.environ.setdefault("LOG_LEVEL", "ERROR")
for p in (str(ROOT), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)

T0 = time.perf_counter()

# SQL statements per call measured by this script before issue 12 (bench/RESULTS.md of 2026-11-28)
STATEMENTS_BEFORE = {
    "service_credit": 12,
    "transfer_post": 5,
    "donate": 9,
    "resident_balance": 1,
    "statement_recent": 4,
}


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f}s] {msg}", flush=True)


def pg_host_args() -> list[str]:
    m = re.match(r"postgres(?:ql)?://(?P<user>[^@/]+)@(?P<host>[^:/]+):(?P<port>\d+)", PG)
    assert m, PG
    return ["-h", m["host"], "-p", m["port"], "-U", m["user"]]


def admin_sql(*statements: str, db: str = "postgres") -> list[Any]:
    import psycopg

    out = []
    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        for sql in statements:
            cur = conn.execute(sql)
            out.append(cur.fetchall() if cur.description else None)
    return out


def recreate_databases() -> None:
    for db in (DB_TB, DB_PGBENCH, DB_HORDAK):
        assert db.startswith("tb_bench"), db  # never anyone else's database
        admin_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', f'CREATE DATABASE "{db}"')


def checkpoint() -> None:
    admin_sql("CHECKPOINT")


def ensure_hordak_venv() -> None:
    marker = HORDAK_VENV / ".installed"
    wanted = " ".join(HORDAK_REQS)
    if HORDAK_PY.exists() and marker.exists() and marker.read_text() == wanted:
        return
    log("creating bench/.venv-hordak (django-hordak in its own environment)")
    subprocess.run(["python3", "-m", "venv", str(HORDAK_VENV)], check=True)
    subprocess.run([str(HORDAK_PY), "-m", "pip", "install", "--quiet", *HORDAK_REQS], check=True)
    marker.write_text(wanted)


def hordak(cmd: str, arg: str) -> dict[str, Any]:
    proc = subprocess.run(
        [str(HORDAK_PY), str(BENCH / "hordak_project" / "side.py"), cmd, arg],
        cwd=BENCH,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "hordak_project.settings"},
    )
    sys.stderr.write(proc.stderr[-4000:] if proc.returncode else proc.stderr)
    if proc.returncode:
        raise RuntimeError(f"hordak {cmd} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------- pgbench


# --------------------------------------------------------------------------------------------- Time Bank


def tb_setup(residents: int) -> dict[str, float]:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks", "-v", "0"],
        cwd=ROOT,
        check=True,
        env=os.environ,
    )
    migrate_s = time.perf_counter() - t0
    import django

    django.setup()
    from timebank.ledger.services import account_for
    from timebank.people import idnumber
    from timebank.people.services import resident_register
    from timebank.places.models import Region
    from timebank.places.services import region_create

    t0 = time.perf_counter()
    town = Region.objects.get(code="442000001")
    community = region_create(
        parent=town, code="442000001990", name="基准社区", level="community", kind="社区", lat=22.52, lon=113.38
    )
    for i in range(residents):
        birth = dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28)
        number = idnumber.make("442000", birth, i % 1000)
        r = resident_register(
            actor=None, name=f"{PREFIX}{i:05d}", id_number=number, home_region=community, roles=("volunteer",)
        )
        account_for(r)
    return {"migrate_s": migrate_s, "residents_s": time.perf_counter() - t0}


class LockSampler:
    """Samples pg_stat_activity of the Time Bank database: what active backends are waiting for."""

    def __init__(self, db: str):
        import psycopg

        self.conn = psycopg.connect(f"{PG}/postgres", autocommit=True)
        self.db = db
        self.reset()

    def reset(self) -> None:
        self.samples = 0
        self.states: Counter[str] = Counter()
        self.lock_queries: Counter[str] = Counter()

    def __call__(self) -> None:
        rows = self.conn.execute(
            "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, ''), left(regexp_replace(query, "
            "'\\s+', ' ', 'g'), 90) FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
            "AND backend_type = 'client backend'",
            [self.db],
        ).fetchall()
        self.samples += 1
        for kind, event, query in rows:
            self.states[f"{kind}:{event}" if event else kind] += 1
            if kind == "Lock":
                self.lock_queries[re.sub(r"\(\d+(, \d+)*\)", "(…)", query)] += 1

    def summary(self) -> dict[str, Any]:
        total = sum(self.states.values()) or 1
        return {
            "samples": self.samples,
            "avg_active": total / max(1, self.samples),
            "share": {k: v / total for k, v in self.states.most_common(6)},
            "lock_waits_on": dict(self.lock_queries.most_common(3)),
        }


class HordakServer:
    """bench/hordak_project/side.py serve: hordak's writer processes, kept alive between phases."""

    def __init__(self, size: int):
        self.proc = subprocess.Popen(
            [str(HORDAK_PY), str(BENCH / "hordak_project" / "side.py"), "serve", str(size)],
            cwd=BENCH,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "hordak_project.settings"},
        )
        assert json.loads(self._line())["ready"]

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"hordak serve ended ({self.proc.wait()})")
        return line

    def run(self, op: str, writers: int, seconds: float, tag: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        phase = {"op": op, "writers": writers, "seconds": seconds, "tag": tag, "checkpoint": True}
        self.proc.stdin.write(json.dumps(phase) + "\n")
        self.proc.stdin.flush()
        return json.loads(self._line())

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def measure(seconds: float) -> dict[str, Any]:
    """All throughput phases, interleaved by client count so each baseline runs next to what it is compared
    with (the machine is shared; load drifts): for N in 1, 4, 16: pgbench, batch, Time Bank singles, hordak."""
    from _pool import WriterPool

    host = pg_host_args()
    t0 = time.perf_counter()
    subprocess.run(["pgbench", *host, "-i", "-s", "16", "-q", DB_PGBENCH], check=True, capture_output=True)
    log(f"pgbench -i -s 16: {time.perf_counter() - t0:.1f}s; starting 16 Time Bank and 16 hordak writer processes")
    pool = WriterPool(max(CLIENTS), "_tb_ops")
    hordak_pool = HordakServer(max(CLIENTS))
    sampler = LockSampler(DB_TB)
    res: dict[str, Any] = {"pgbench": {}, "tb": {}, "hordak": {}, "load": {}}

    def tb(op: str, n: int, secs: float) -> None:
        checkpoint()
        sampler.reset()
        r = pool.run(op, n, secs, {"tag": f"{op[:3]}{n}", "entries": 1000}, sampler=sampler)
        r["waits"] = sampler.summary()
        res["tb"].setdefault(op, {})[n] = r
        if r["errors"]:
            log(f"  {op} writers={n}: {r['errors']} errors, first: {r['first_error']}")
        top = ", ".join(f"{k} {v:.0%}" for k, v in list(r["waits"]["share"].items())[:3])
        log(f"Time Bank {op:<12} writers={n:>2}  {r['per_second']:8.1f}/s   p50 {r['p50_ms']:6.1f} ms  [{top}]")

    def hd(op: str, n: int) -> None:
        r = hordak_pool.run(op, n, seconds, f"{op[:3]}{n}")
        res["hordak"].setdefault(op, {})[n] = r
        if r["errors"]:
            log(f"  hordak {op} writers={n}: {r['errors']} errors, first: {r['first_error']}")
        log(f"hordak    {op:<12} writers={n:>2}  {r['per_second']:8.1f}/s   p50 {r['p50_ms']:6.1f} ms")

    try:
        for n in CLIENTS:
            res["load"][n] = os.getloadavg()[0]
            checkpoint()
            cmd = ["pgbench", *host, "-c", str(n), "-j", str(n), "-T", str(int(seconds)), "-M", "prepared"]
            out = subprocess.run([*cmd, DB_PGBENCH], check=True, capture_output=True, text=True).stdout
            tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)[1])
            lat = re.search(r"latency average = ([\d.]+) ms", out)
            res["pgbench"][n] = {"tps": tps, "latency_ms": float(lat[1]) if lat else float("nan")}
            log(f"pgbench   tpcb-like    clients={n:>2}  {tps:8.1f} tps")
            if n in (1, 4):
                tb("batch", n, max(3.0, seconds / 2))
            tb("gov_credit", n, seconds)
            hd("gov_credit", n)
            tb("transfer", n, seconds)
            tb("donate_pool", n, seconds)
        hd("donate_pool", max(CLIENTS))
    finally:
        pool.close()
        hordak_pool.close()
        sampler.conn.close()
    return res


def tb_profile(count: int = 200) -> dict[str, Any]:
    """Where one process's time goes per posting: SQL statements per call and a cProfile of service_credit."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from timebank.ledger.models import Account
    from timebank.ledger.selectors import resident_balance, statement_recent
    from timebank.ledger.services import donate, service_credit, transfer_post
    from timebank.people.models import Resident

    residents = list(Resident.objects.filter(name__startswith=PREFIX).order_by("pk")[:50])
    accts = {a.resident_id: a for a in Account.objects.filter(resident__in=residents, kind="personal")}
    out: dict[str, Any] = {}
    calls = {
        "service_credit": lambda k: service_credit(
            key=f"prof-sc-{k}", volunteer=residents[0], payer="government", elder=None, minutes=30
        ),
        "transfer_post": lambda k: transfer_post(
            key=f"prof-tp-{k}",
            debit=accts[residents[1].pk],
            credit=accts[residents[2].pk],
            minutes=1,
            kind="family_transfer",
        ),
        "donate": lambda k: donate(key=f"prof-dn-{k}", donor=residents[3], minutes=1),
        "resident_balance": lambda k: resident_balance(residents[4]),
    }
    for name, fn in calls.items():
        fn("warm")  # a worker's first call fills its caches (system accounts, account ids, policies)
        with CaptureQueriesContext(connection) as ctx:
            fn("0001")
        out[f"queries_{name}"] = len(ctx.captured_queries)
        if name == "service_credit":
            out["service_credit_sql"] = [re.sub(r"\s+", " ", q["sql"])[:110] for q in ctx.captured_queries]
    pool = Account.objects.get(code="pool")
    with CaptureQueriesContext(connection) as ctx:
        statement_recent(pool, limit=100)
    out["queries_statement_recent"] = len(ctx.captured_queries)

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for i in range(count):
        service_credit(
            key=f"prof-sc-{i:05d}x", volunteer=residents[i % len(residents)], payer="government", elder=None, minutes=30
        )
    prof.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    db_time = 0.0
    for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func in ("execute", "executemany") and "psycopg" in filename and "cursor" in filename:
            db_time += ct
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
    top = [
        line.strip()
        for line in buf.getvalue().splitlines()
        if re.match(r"\s*\d+(/\d+)?\s+\d", line) and "{built-in method builtins" not in line
    ][:12]
    out.update(
        {
            "profile_count": count,
            "profile_ms_per_call": wall / count * 1000,
            "profile_db_wait_ms_per_call": db_time / count * 1000,
            "profile_top_tottime": top,
        }
    )
    return out


def tb_busiest() -> dict[str, str]:
    """The busiest account overall, the busiest cached account and the busiest personal account (codes)."""
    from django.db import connection

    sql = """
        SELECT a.code, a.kind, a.cached, x.n FROM (
          SELECT acc, count(*) n FROM (
            SELECT debit_account_id acc FROM ledger_transfer UNION ALL SELECT credit_account_id FROM ledger_transfer
          ) s GROUP BY acc
        ) x JOIN ledger_account a ON a.id = x.acc ORDER BY x.n DESC"""
    with connection.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    out = {"overall": rows[0][0]}
    out["cached"] = next(code for code, _k, cached, _n in rows if cached)
    out["personal"] = next(code for code, kind, _c, _n in rows if kind == "personal")
    out["entries"] = {code: n for code, _k, _c, n in rows[:3]} | {
        code: n for code, _k, _c, n in rows if code in (out["cached"], out["personal"])
    }
    return out


def tb_export(path: Path) -> int:
    """Write the Time Bank's posted transfers as TSV (seq, debit code, credit code, minutes, local date)."""
    import psycopg

    n = 0
    with psycopg.connect(f"{PG}/{DB_TB}") as conn, open(path, "w") as fh:
        cur = conn.execute(
            "SELECT row_number() OVER (ORDER BY t.id), d.code, c.code, t.amount, "
            "(t.created_at AT TIME ZONE 'Asia/Shanghai')::date FROM ledger_transfer t "
            "JOIN ledger_account d ON d.id = t.debit_account_id JOIN ledger_account c ON c.id = t.credit_account_id "
            "WHERE t.phase IN ('posted', 'post') ORDER BY t.id"
        )
        for row in cur:
            fh.write("\t".join(str(x) for x in row) + "\n")
            n += 1
    return n


def tb_reads(statement_codes: list[str]) -> dict[str, Any]:
    from timebank.ledger.models import Account
    from timebank.ledger.selectors import resident_balance, statement_recent
    from timebank.people.models import Resident

    residents = list(Resident.objects.filter(name__startswith=PREFIX).order_by("pk"))

    def balances() -> list[Any]:
        return [resident_balance(r) for r in residents]

    balances()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        balances()
        times.append(time.perf_counter() - t0)
    out: dict[str, Any] = {"accounts": len(residents), "balances_s": statistics.median(times), "statements": {}}
    for code in statement_codes:
        account = Account.objects.get(code=code)
        statement_recent(account, limit=100)
        times = []
        st = None
        for _ in range(5):
            t0 = time.perf_counter()
            st = statement_recent(account, limit=100)
            times.append(time.perf_counter() - t0)
        assert st is not None
        out["statements"][code] = {
            "seconds": statistics.median(times),
            "lines": len(st.lines),
            "balances": [str(line.balance) for line in st.lines],
        }
    return out


# --------------------------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    version = admin_sql("SHOW server_version")[0][0][0]
    settings = dict(
        admin_sql(
            "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
            "('shared_buffers', 'synchronous_commit', 'fsync', 'max_connections')"
        )[0]
    )
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    pgbench_v = subprocess.run(["pgbench", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "postgresql": version,
        "pg settings": ", ".join(f"{k}={v}" for k, v in sorted(settings.items())),
        "pgbench": pgbench_v,
        "python": platform.python_version(),
        "django": __import__("django").get_version(),
        "django-hordak": "2.0.0 (bench/.venv-hordak, " + " ".join(HORDAK_REQS) + ")",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15-min load average at the end of the run)",
    }


def verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio >= target else f"MISS ({ratio / target:.0%} of target)"


def fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each timed measurement")
    ap.add_argument("--residents", type=int, default=1000)
    ap.add_argument("--out", default=str(BENCH / "RESULTS.md"), help="where to write the results ('' = nowhere)")
    args = ap.parse_args()
    command = os.environ.get("BENCH_COMMAND") or " ".join(
        shlex.quote(x) for x in [os.path.relpath(sys.executable, ROOT), os.path.relpath(__file__, ROOT), *sys.argv[1:]]
    )
    started = dt.datetime.now(dt.UTC)

    ensure_hordak_venv()
    log(f"recreating {DB_TB}, {DB_PGBENCH}, {DB_HORDAK}")
    recreate_databases()
    setup = tb_setup(args.residents)
    log(f"Time Bank: migrate {setup['migrate_s']:.1f}s, {args.residents} residents {setup['residents_s']:.1f}s")
    from timebank.ledger.models import Account

    codes_file = BENCH / ".tb_account_codes.txt"
    codes = ["issuance", "guarantee", "pool"] + [
        a.code for a in Account.objects.filter(kind="personal").order_by("resident_id")
    ]
    codes_file.write_text("\n".join(codes))
    hsetup = hordak("setup", str(codes_file))
    log(f"hordak: migrate {hsetup['migrate_s']:.1f}s, {hsetup['accounts']} accounts {hsetup['accounts_s']:.1f}s")

    m = measure(args.seconds)
    log("profiling one Time Bank writer")
    prof = tb_profile()
    busiest = tb_busiest()
    tsv = BENCH / ".tb_transfers.tsv"
    count = tb_export(tsv)
    load = hordak("load", str(tsv))
    log(f"hordak: loaded the same {load['transfers']:,} transfers ({count:,} exported) in {load['load_s']:.1f}s")
    stmt_codes = list(dict.fromkeys([busiest["overall"], busiest["cached"], busiest["personal"]]))
    checkpoint()
    tb_r = tb_reads(stmt_codes)
    h_r = hordak("read", ",".join(stmt_codes))
    for path in (tsv, codes_file):
        path.unlink(missing_ok=True)

    data = {
        "command": command,
        "started": started.isoformat(timespec="seconds"),
        "seconds": args.seconds,
        "residents": args.residents,
        "measure": m,
        "profile": prof,
        "busiest": busiest,
        "tb_reads": tb_r,
        "hordak_reads": h_r,
        "transfers": count,
        "machine": machine(),
        "total_s": time.perf_counter() - T0,
    }
    raw = BENCH / ".results"
    raw.mkdir(exist_ok=True)
    (raw / "ledger.json").write_text(json.dumps(data, indent=1, default=str))
    text = report(data)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
        log(f"wrote {os.path.relpath(args.out, ROOT)}")
    return 0


def _same_balances(tb: list[str], hd: list[str]) -> bool:
    from decimal import Decimal

    return len(tb) == len(hd) and all(Decimal(a) == Decimal(b) for a, b in zip(tb, hd, strict=True))


def report(d: dict[str, Any]) -> str:
    m, prof, mach = d["measure"], d["profile"], d["machine"]
    pgb, tb, hd = m["pgbench"], m["tb"], m["hordak"]
    tr, hr = d["tb_reads"], d["hordak_reads"]
    top = max(CLIENTS)
    L: list[str] = []
    w = L.append
    w("# Ledger benchmark (issues 3 and 12)\n")
    w(f"Produced by **`{d['command']}`** on {d['started']} (UTC), {d['total_s']:.0f} s in all; each timed")
    w(f"measurement ran {d['seconds']:g} s (batches {max(3.0, d['seconds'] / 2):g} s); {d['residents']:,} residents,")
    w("one personal account each. Regenerate with `make bench` (bench/run_all.sh runs every bench/*_bench.py).\n")
    w("| machine | |\n|---|---|")
    for k, v in mach.items():
        w(f"| {k} | {v} |")
    w("")
    w("The load generator (Python writer processes) and PostgreSQL share the same cores, and other sessions")
    w("may use the same machine and server: each baseline is therefore run right next to what it is compared")
    w("with (for N = 1, 4, 16: pgbench, then batch, Time Bank and hordak at N), and ratios, not absolute")
    w(
        "numbers, are what to compare between runs. 1-minute load average before each client count: "
        + ", ".join(f"N={n}: {m['load'][n]:.1f}" for n in CLIENTS)
        + ".\n"
    )

    # ---------------------------------------------------------------- targets
    single = tb["gov_credit"][top]["per_second"]
    hsingle = hd["gov_credit"][top]["per_second"]
    rows = []
    rows.append(
        (
            f"Single postings, {top} writers: government-paid `service_credit` to different volunteers",
            f"{fmt(single)} /s",
            f"django-hordak, same shape, {top} writers: {fmt(hsingle)} /s",
            single / hsingle,
            TARGETS["single"],
        )
    )
    rows.append(
        (
            f"Single postings, {top} writers, against pgbench *(reported)*",
            f"{fmt(single)} /s",
            f"pgbench TPC-B, {top} clients: {fmt(pgb[top]['tps'])} tps",
            single / pgb[top]["tps"],
            TARGETS["single_pgbench"],
        )
    )
    for n in (1, 4):
        b = tb["batch"][n]["per_second"]
        rows.append(
            (
                f"Batch posting: `batch_post`, 1,000 transfers a batch, {n} writer{'s' if n > 1 else ''}",
                f"{fmt(b)} transfers/s",
                f"pgbench, {n} client{'s' if n > 1 else ''}: {fmt(pgb[n]['tps'])} tps",
                b / pgb[n]["tps"],
                TARGETS["batch"],
            )
        )
    best_pgb = max(v["tps"] for v in pgb.values())
    best_batch = max(v["per_second"] for v in tb["batch"].values())
    rows.append(
        (
            "Batch posting, best of the above vs pgbench's best",
            f"{fmt(best_batch)} transfers/s",
            f"pgbench best: {fmt(best_pgb)} tps",
            best_batch / best_pgb,
            TARGETS["batch"],
        )
    )
    tb_bal = tr["accounts"] / tr["balances_s"]
    hd_bal = hr["accounts"] / hr["balances_s"]
    rows.append(
        (
            f"Balance reads, {tr['accounts']:,} accounts one by one (`resident_balance` vs hordak `get_balance()`)",
            f"{fmt(tb_bal, 0)} reads/s",
            f"hordak: {fmt(hd_bal, 0)} reads/s",
            tb_bal / hd_bal,
            TARGETS["balance"],
        )
    )
    busiest = d["busiest"]
    labels = {busiest["overall"]: "busiest account overall"}
    labels.setdefault(busiest["cached"], "busiest account with a cached balance")
    labels.setdefault(busiest["personal"], "busiest personal account")
    for code, label in labels.items():
        ts, hs = tr["statements"][code], hr["statements"][code]
        rows.append(
            (
                f"Statement, last 100 entries with running balance: {label} (`{code}`, {hs['entries']:,} entries)"
                + ("" if code == busiest["overall"] else " *(for information)*"),
                f"{ts['seconds'] * 1000:.1f} ms",
                f"hordak `with_account_balance_after()`: {hs['seconds'] * 1000:,.0f} ms",
                hs["seconds"] / ts["seconds"],
                TARGETS["statement"] if code == busiest["overall"] else 0.0,
            )
        )
    w("## Results against the targets\n")
    w("| measure | Time Bank | baseline (same run) | ratio | target | verdict |\n|---|---|---|---|---|---|")
    for what, ours, base, ratio, target in rows:
        if target:
            w(f"| {what} | {ours} | {base} | **{ratio:.2f}×** | ≥ {target:g}× | {verdict(ratio, target)} |")
        else:
            w(f"| {what} | {ours} | {base} | {ratio:.2f}× | – | – |")
    w("")
    w(
        f"django-hordak with the same posting shape and {top} writers: {fmt(hsingle)} /s = "
        f"**{hsingle / pgb[top]['tps']:.2f}×** pgbench; Time Bank / hordak = "
        f"{single / hsingle:.2f}× (target ≥ {TARGETS['single']:g}×), Time Bank / pgbench = "
        f"{single / pgb[top]['tps']:.2f}×. hordak's bulk `Account.objects.with_balances()` reads the same "
        f"{hr['accounts']:,} balances in one query in {hr['bulk_balances_s'] * 1000:.0f} ms "
        f"({hr['accounts'] / hr['bulk_balances_s']:,.0f} /s); the Time Bank has no bulk balance selector.\n"
    )
    same = all(_same_balances(tr["statements"][c]["balances"], hr["statements"][c]["balances"]) for c in labels)
    w(
        f"Read check: hordak was loaded with exactly the Time Bank's {d['transfers']:,} transfers (same order) before "
        f"the reads; the 100 running balances of every statement above are {'identical' if same else 'NOT identical'} "
        "in both.\n"
    )

    # ---------------------------------------------------------------- every client count
    w("## Single postings at 1, 4 and 16 writers\n")
    w(
        "Writer *processes* (not threads); writer w of N only touches residents w, w+N, …, so writers share no "
        "personal account. Ratio = postings/s ÷ pgbench tps at the same client count.\n"
    )
    w(
        "| writers | pgbench tps | gov. `service_credit` | `transfer_post` resident→resident | `donate` to the pool | "
        "hordak, gov. credit shape | p50 latency (credit / transfer / donate / hordak) | "
        "writer-process CPU per posting (same order) |"
    )
    w("|---|---|---|---|---|---|---|---|")
    for n in CLIENTS:
        base = pgb[n]["tps"]
        cells = []
        for r in (tb["gov_credit"][n], tb["transfer"][n], tb["donate_pool"][n], hd["gov_credit"][n]):
            cells.append(f"{fmt(r['per_second'])} ({r['per_second'] / base:.2f}×)")
        lat = " / ".join(
            f"{r['p50_ms']:.1f}"
            for r in (tb["gov_credit"][n], tb["transfer"][n], tb["donate_pool"][n], hd["gov_credit"][n])
        )
        cpu = " / ".join(
            f"{r.get('client_cpu_ms_per_posting', float('nan')):.1f}"
            for r in (tb["gov_credit"][n], tb["transfer"][n], tb["donate_pool"][n], hd["gov_credit"][n])
        )
        w(f"| {n} | {fmt(base)} | " + " | ".join(cells) + f" | {lat} ms | {cpu} ms |")
    errors = {
        f"{op} N={n}": (r["errors"], r["first_error"])
        for src in (tb, hd)
        for op, byn in src.items()
        for n, r in byn.items()
        if r["errors"]
    }
    w(
        "\nErrors during the timed runs: "
        + (", ".join(f"{k}: {v[0]} ({v[1]})" for k, v in errors.items()) or "none")
        + ".\n"
    )

    # ---------------------------------------------------------------- hot account
    w("## Hot-account check: do government-paid credits serialise on one row?\n")
    w(
        "The ledger's design says the issuance account is *derived* (never locked or updated), so credits paid by "
        "the government to different volunteers share no row. Compared at 16 writers with plain transfers between "
        "residents (no shared row at all) and donations to the public pool (every writer on the one cached pool "
        'row). "Lock waits" = share of sampled active PostgreSQL backends waiting on a row lock (pg_stat_activity '
        "every 0.25 s).\n"
    )
    w("| workload | 1 writer /s | 16 writers /s | 16 ÷ 1 | lock waits at 16 | top wait events at 16 | waiting on |")
    w("|---|---|---|---|---|---|---|")
    lock_share = {}
    for op, label in (
        ("gov_credit", "gov. `service_credit`, different volunteers"),
        ("transfer", "`transfer_post` between residents"),
        ("donate_pool", "`donate` to the pool"),
    ):
        r1, r16 = tb[op][1], tb[op][top]
        share = r16["waits"]["share"]
        locks = sum(v for k, v in share.items() if k.startswith("Lock"))
        lock_share[op] = locks
        evs = ", ".join(f"{k} {v:.0%}" for k, v in list(share.items())[:3])
        q = "; ".join(f"`{k}`" for k in list(r16["waits"]["lock_waits_on"])[:1]) or "–"
        w(
            f"| {label} | {fmt(r1['per_second'])} | {fmt(r16['per_second'])} | "
            f"{r16['per_second'] / r1['per_second']:.2f}× | {locks:.0%} | {evs} | {q} |"
        )
    holds = lock_share["gov_credit"] < 0.25
    w("")
    if holds:
        w("**The claim holds**: government-paid credits show few row-lock waits at 16 writers.\n")
    else:
        w(
            f"**The claim does not hold as built.** At {top} writers {lock_share['gov_credit']:.0%} of the busy "
            "backends of the government-paid credits wait on a row lock, like the pool donations "
            f"({lock_share['donate_pool']:.0%}) and unlike the resident transfers ({lock_share['transfer']:.0%}). "
            "A government-paid credit under the balance cap locks only the volunteer's row (the guarded INSERT of "
            "timebank/ledger/services/core.py); see the waits column for what they queue on.\n"
        )

    # ---------------------------------------------------------------- where the time goes
    w("## Where the time goes\n")
    w(
        f"One writer, in-process, {prof['profile_count']} government-paid `service_credit` calls under cProfile: "
        f"{prof['profile_ms_per_call']:.2f} ms a call, of which {prof['profile_db_wait_ms_per_call']:.2f} ms waiting "
        "in psycopg's `execute` (round trip, server work and commit flush); the rest is Python in the writer "
        "(wall-clock, so inflated by whatever else runs on the machine).\n"
    )
    w(
        "SQL statements per call (BEGIN, COMMIT and savepoints included; the webhook-endpoint read that "
        "`certificates.webhooks.enqueue` makes after each commit outside a request included): "
        + ", ".join(f"`{k.removeprefix('queries_')}` {v}" for k, v in prof.items() if k.startswith("queries_"))
        + ". Before issue 12 (run of 2026-11-28): "
        + ", ".join(f"`{k}` {v}" for k, v in STATEMENTS_BEFORE.items())
        + ".\n"
    )
    w("The statements of one `service_credit`:\n")
    w("```")
    for q in prof["service_credit_sql"]:
        w(q)
    w("```\n")
    w("Top functions by own time (cProfile, the same calls):\n")
    w("```")
    for line in prof["profile_top_tottime"]:
        w(line)
    w("```\n")
    cpu_ms = tb["gov_credit"][1]["client_cpu_ms_per_posting"]
    cpu_t = tb["transfer"][1]["client_cpu_ms_per_posting"]
    cpu_h = hd["gov_credit"][1]["client_cpu_ms_per_posting"]
    w(
        f"With {mach['nproc']} cores shared by the writers and the server, the writers' Python alone "
        f"({cpu_ms:.2f} ms of writer-process CPU per government-paid credit, {cpu_t:.2f} ms per plain transfer, "
        f"{cpu_h:.2f} ms per hordak posting: `time.process_time()` of the writers in the 1-writer runs) "
        "caps the rate near "
        f"{int(mach['nproc']) * 1000 / max(cpu_ms, 0.01):,.0f} "
        "credits/s before PostgreSQL does any work; pgbench's load generator is C and costs almost nothing per "
        "transaction, so at 16 clients pgbench gets nearly both cores for the server.\n"
    )

    # ---------------------------------------------------------------- reads
    w("## Reads\n")
    w("| read | Time Bank | django-hordak | ratio |\n|---|---|---|---|")
    w(
        f"| {tr['accounts']:,} balances, one call each | {tr['balances_s'] * 1000:.0f} ms | "
        f"{hr['balances_s'] * 1000:.0f} ms | {hr['balances_s'] / tr['balances_s']:.2f}× |"
    )
    w(
        f"| {hr['accounts']:,} balances, hordak's bulk `with_balances()` | – | {hr['bulk_balances_s'] * 1000:.0f} ms | "
        f"{hr['bulk_balances_s'] / tr['balances_s']:.2f}× (vs Time Bank one by one) |"
    )
    for code in labels:
        ts, hs = tr["statements"][code], hr["statements"][code]
        w(
            f"| statement `{code}` ({hs['entries']:,} entries), last 100 | {ts['seconds'] * 1000:.1f} ms | "
            f"{hs['seconds'] * 1000:,.0f} ms | {hs['seconds'] / ts['seconds']:.1f}× |"
        )
    w("")
    w(
        "Time Bank: `resident_balance` = 1 narrow query (the four counters of the account row); "
        "`statement_recent` walks back from the cached balance over the 100 newest entries of each side, except for "
        "a *derived* account (issuance), whose current balance is first summed over all its transfers. hordak: "
        "`get_balance()` sums the account's legs; `with_account_balance_after()` runs `get_balance()` once per "
        "line, each summing all earlier legs of the account, so its cost grows with the account's history.\n"
    )
    w("## Method\n")
    w(
        f"- Scratch databases `{DB_TB}`, `{DB_PGBENCH}`, `{DB_HORDAK}` are dropped and recreated each run; "
        "the Time Bank schema is migrated with `manage.py migrate`; residents are registered with "
        "`people.services.resident_register` (valid ID numbers from `people.idnumber.make`) and opened with "
        "`ledger.services.account_for`."
    )
    w(
        "- pgbench: `pgbench -i -s 16`, then the built-in tpcb-like script, `pgbench -c N -j N -T "
        f"{int(d['seconds'])} -M prepared`."
    )
    w(
        "- Writers: a persistent pool of 16 spawned processes per system, each with its own `django.setup()` and "
        "connection; start-up is outside the timed window; postings/s = postings completed ÷ time from the "
        "common start to the last writer's last completion. A `CHECKPOINT` precedes every measurement."
    )
    w(
        "- django-hordak 2.0.0 runs in bench/.venv-hordak (its dependencies stay out of the project's environment); "
        "one hordak account per Time Bank account; a transfer is hordak's `Account.transfer_to()` (one "
        "Transaction, two Legs, its deferred balance-check triggers). Before the reads its tables are replaced by "
        "exactly the Time Bank's transfers (bulk SQL, not timed), so both read the same history."
    )
    w(
        "- What hordak does not do per posting and the Time Bank does: idempotency (a unique key, looked up only "
        "when the INSERT finds it taken), row locks and the overdraft check, cached balances, the balance cap, "
        "a partner-webhook event per posting."
    )
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(main())
