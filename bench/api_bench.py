"""API benchmark (issues 7 and 12): balance reads and confirmations under gunicorn, against a baseline write.

    .venv/bin/python bench/api_bench.py [--seconds 15] [--visits 1000] [--scale small] [--out bench/RESULTS.md]

Run by ``make bench`` (bench/run_all.sh runs every bench/*_bench.py). Needs ``wrk`` (Debian: apt-get install
wrk) and PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth).

1. A scratch database ``tb_bench_api`` (dropped and created each run), migrated, with the demo city
   (``seed_demo --scale small``).
2. ``bench/_api_setup.py``: one API token (read, write) per social worker, and ``--visits`` checked-out visits
   made through the care services as a station does it (publish the need, assign a volunteer, station
   check-in, check-out 45 minutes later), so every confirmation request confirms a different visit.
3. gunicorn (``timebank.wsgi``, 4 sync workers, DEBUG=0) and wrk with 32 connections (``bench/_api_wrk.lua``:
   each request its own path and its town's social worker's token) against, in this order:
   GET /api/v1/health (no database, no auth), POST /api/v1/bench/write (the baseline: token auth, one INSERT
   in a transaction, commit; enabled for the run by ``API_BENCH_ENDPOINTS=1``), GET
   /api/v1/ledger/residents/{id}/balance, POST /api/v1/visits/{id}/confirm (each visit once), the baseline
   write again, GET /api/v1/health again. Ratios are to the mean of the two baseline-write runs (issue 12);
   the ratio to health is kept for information. The rate limit (``API_RATE_LIMIT``) is raised for the run: 32
   clients over 23 tokens would otherwise hit the default 600 requests a minute a token.
4. After the load: every confirmed visit must have exactly one ledger transfer ``visit-<id>-credit`` (ref
   ``visit:<id>``), every unconfirmed one none; and ``bench/_api_profile.py`` profiles confirmations and
   balance reads in-process (cProfile, SQL count) on visits held back from the load.

Writes its section between ``<!-- api:start -->`` and ``<!-- api:end -->`` in bench/RESULTS.md (other
sections kept); raw numbers in bench/.results/api.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
from timebank.web.production_env import production_env  # noqa: E402 - after the path is set

#: The server runs with production settings behind a "proxy": wrk and the health probe say the request came
#: over HTTPS (X-Forwarded-Proto), as nginx in front of gunicorn does, so the HTTPS redirect does not apply.
PROXY_HEADER = ("X-Forwarded-Proto", "https")
BEGIN, END = "<!-- api:start -->", "<!-- api:end -->"
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
TARGET_RATIO = 0.3  # confirmations/s ÷ baseline writes/s
TARGET_BALANCE_RATIO = 0.5  # balance reads/s ÷ baseline writes/s
TARGET_P99_MS = 150.0  # confirmation p99 at 32 connections
HOLD_BACK = 25  # visits kept out of the load for the in-process profile
T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[api {time.perf_counter() - T0:6.1f}s] {msg}", flush=True)


def run(cmd: list[str], env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, **kw)


def pg_cmd(tool: str, *args: str) -> None:
    subprocess.run([tool, "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], *args], check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as fh:
        parts = [int(x) for x in fh.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def proc_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total


def pg_ticks() -> int:
    """CPU jiffies of the PostgreSQL server (every database): live processes plus the exited backends that
    the postmaster has reaped (its cutime + cstime; with CONN_MAX_AGE=0 each request has its own backend)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                head, rest = fh.read().rsplit(")", 1)
        except OSError:
            continue
        if not head.endswith("(postgres"):
            continue
        fields = rest.split()
        total += int(fields[11]) + int(fields[12])
        if fields[1] == "1":  # the postmaster
            total += int(fields[13]) + int(fields[14])
    return total


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except FileNotFoundError:
        return []


def wrk(url: str, targets: Path, method: str, seconds: float, mode: str, conns: int, threads: int) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{conns}",
        f"-d{max(round(seconds), 1)}s",
        "--timeout",
        "30s",
        "-s",
        str(BENCH / "_api_wrk.lua"),
        url,
        "--",
        method,
        str(targets),
        str(threads),
        mode,
    ]
    busy0, total0 = cpu_ticks()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    busy1, total1 = cpu_ticks()
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {out}\n{err}")
    res: dict[str, Any] = json.loads(line[len("RESULT ") :])
    res["rps"] = res["ok"] / (res["duration_us"] / 1e6)
    res["all_rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["cpu_busy"] = (busy1 - busy0) / max(total1 - total0, 1)
    res["command"] = " ".join(cmd)
    return res


def measure(
    url: str, targets: Path, method: str, seconds: float, mode: str, args: argparse.Namespace, server: int
) -> dict[str, Any]:
    """One wrk run, with the CPU time of the gunicorn workers and of everything else over the run."""
    hz = os.sysconf("SC_CLK_TCK")
    workers = children(server)
    g0, p0 = proc_ticks(workers), pg_ticks()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, _ = cpu_ticks()
    t = time.perf_counter()
    res = wrk(url, targets, method, seconds, mode, args.connections, args.threads)
    wall = time.perf_counter() - t
    busy1, _ = cpu_ticks()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res["cpu_gunicorn_cores"] = (proc_ticks(workers) - g0) / hz / wall
    res["cpu_postgres_cores"] = (pg_ticks() - p0) / hz / wall
    res["cpu_wrk_cores"] = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / wall
    res["cpu_busy_cores"] = (busy1 - busy0) / hz / wall
    res["cpu_other_cores"] = (
        res["cpu_busy_cores"] - res["cpu_gunicorn_cores"] - res["cpu_postgres_cores"] - res["cpu_wrk_cores"]
    )
    log(
        f"{method} {targets.name}: {res['rps']:.1f} ok/s, p50 {res['p50_us'] / 1000:.1f} ms, "
        f"p99 {res['p99_us'] / 1000:.1f} ms, non-2xx {res['non2xx']}, errors "
        f"{res['connect_errors'] + res['read_errors'] + res['write_errors'] + res['timeouts']}"
    )
    return res


def verify(db_url: str, sent: list[int], held: list[int]) -> dict[str, Any]:
    """Each confirmed visit has exactly one credit transfer (key visit-<id>-credit, ref visit:<id>)."""
    import psycopg

    ids = sent + held
    with psycopg.connect(db_url) as conn:
        status = dict(
            conn.execute(
                "SELECT status, count(*) FROM care_visit WHERE id = ANY(%s) GROUP BY status", (sent,)
            ).fetchall()
        )
        rows = conn.execute(
            """SELECT v.id, v.status, v.transfer_id,
                      count(t.id) FILTER (WHERE t.key = 'visit-' || v.id || '-credit') AS credits,
                      count(t.id) FILTER (WHERE t.key = 'visit-' || v.id || '-credit:cap') AS overflows,
                      count(t.id) AS refs
               FROM care_visit v LEFT JOIN ledger_transfer t ON t.ref = 'visit:' || v.id
               WHERE v.id = ANY(%s) GROUP BY v.id, v.status, v.transfer_id""",
            (ids,),
        ).fetchall()
    by_id = {r[0]: r for r in rows}
    confirmed = [i for i in sent if by_id[i][1] == "confirmed"]
    bad = [
        i
        for i in sent
        if (by_id[i][1] == "confirmed" and (by_id[i][3] != 1 or by_id[i][2] is None))
        or (by_id[i][1] != "confirmed" and by_id[i][5] != 0)
    ]
    return {
        "sent_visits_by_status": status,
        "confirmed": len(confirmed),
        "credit_transfers": sum(by_id[i][3] for i in sent),
        "cap_overflow_transfers": sum(by_id[i][4] for i in sent),
        "transfers_with_ref": sum(by_id[i][5] for i in sent),
        "visits_breaking_one_transfer_rule": bad[:20],
        "n_bad": len(bad),
    }


def machine() -> dict[str, str]:
    import psycopg

    info = {"nproc": str(os.cpu_count()), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as fh:
            info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "?")
    except OSError:
        info["cpu"] = "?"
    with psycopg.connect(f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/postgres") as conn:
        info["postgresql"] = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    info["wrk"] = (wrk_v.stdout or wrk_v.stderr).splitlines()[0].split(" [")[0]
    from importlib.metadata import version

    for dist in ("django", "django-ninja", "gunicorn", "psycopg"):
        info[dist] = version(dist)
    return info


def pct(x: float) -> str:
    return f"{x:.2f}×"


def report(d: dict[str, Any]) -> str:
    h1, h2, w1, w2, bal, conf = d["health1"], d["health2"], d["write1"], d["write2"], d["balance"], d["confirm"]
    health_rps = (h1["rps"] + h2["rps"]) / 2
    base_rps = (w1["rps"] + w2["rps"]) / 2
    base_p50 = (w1["p50_us"] + w2["p50_us"]) / 2
    base_p99 = (w1["p99_us"] + w2["p99_us"]) / 2
    ver, prof, m = d["verify"], d["profile"], d["machine"]
    conf_ratio = conf["rps"] / base_rps
    bal_ratio = bal["rps"] / base_rps
    p99c = conf["p99_us"] / 1000
    p99b = bal["p99_us"] / 1000
    pc, pb, pw = prof["confirm"], prof["balance"], prof.get("write")
    statements = {"confirm": pc["queries_per_request"] + 2, "balance": pb["queries_per_request"]}
    if pw:
        statements["write"] = pw["queries_per_request"] + 2

    def verdict(ok: bool, detail: str = "") -> str:
        return "PASS" if ok else f"MISS{f' ({detail})' if detail else ''}"

    def per_request(r: dict[str, Any], key: str) -> str:
        return f"{1000 * r[key] / r['rps']:.2f}" if r["rps"] else "–"

    def row(name: str, r: dict[str, Any], kind: str = "", base: bool = False) -> str:
        ratio = "1 (baseline)" if base else pct(r["rps"] / base_rps)
        l50 = "" if base else f" ({pct(r['p50_us'] / base_p50)})"
        l99 = "" if base else f" ({pct(r['p99_us'] / base_p99)})"
        stm = f"{statements[kind]:.0f}" if kind in statements else ("0" if kind == "health" else "–")
        return (
            f"| {name} | {r['rps']:,.1f} | {ratio} | {pct(r['rps'] / health_rps)} | {r['p50_us'] / 1000:.1f}{l50} | "
            f"{r['p99_us'] / 1000:.1f}{l99} | {r['ok']:,} | {r['non2xx']} | {per_request(r, 'cpu_gunicorn_cores')} / "
            f"{per_request(r, 'cpu_postgres_cores')} / {per_request(r, 'cpu_wrk_cores')} | {stm} |"
        )

    runs = (h1, h2, w1, w2, bal, conf)
    errs = sum(r[k] for r in runs for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    non2xx = sum(r["non2xx"] for r in runs)
    samples = " ".join(r["bad_samples"] for r in runs if r["bad_samples"]).strip()
    names = ["confirmation", "balance read"] + (["baseline write"] if pw else [])
    profs = [pc, pb] + ([pw] if pw else [])
    keys = list(dict.fromkeys(k for p in profs for k in p["buckets_ms_per_request"]))
    bucket_rows = "\n".join(
        f"| {k} | " + " | ".join(f"{p['buckets_ms_per_request'].get(k, 0.0):.1f}" for p in profs) + " |" for k in keys
    )
    top = "\n".join(ln.replace(d["root"] + "/", "") for ln in pc["top_cumulative"][1:13])
    exhausted = conf["exhausted_threads"]
    loaded = d["loaded"]
    lines = [
        BEGIN,
        "# API benchmark (issues 7 and 12)",
        "",
        (
            f"**Loaded-machine run**: other engineers' test suites and benchmarks shared the {m['nproc']} cores "
            f"(load average {d['load']} at the start, {d['load_end']} at the end). Absolute numbers follow that "
            "load; the ratios to the baseline write measured in the same run are what to compare.\n"
            if loaded
            else ""
        ),
        f"Produced by **`{d['command']}`** on {d['started']} (UTC), {d['total_s']:.0f} s in all "
        f"(setup {d['setup_s']:.0f} s: migrate, `seed_demo --scale {d['scale']}`, {d['visits']:,} checked-out visits "
        f"through the care services, {d['tokens']} API tokens). Source: {d['source']}.",
        "",
        f"Server: `{d['gunicorn_cmd']}` with production settings (timebank/web/production_env.py: DEBUG=0, "
        "random keys, HTTPS behind a proxy header that wrk sends, ALLOWED_HOSTS=127.0.0.1), "
        f"API_RATE_LIMIT={d['rate_limit']:,} (the default 600 a minute a token would refuse most requests of "
        f"32 clients sharing 23 tokens), CONN_MAX_AGE={d['conn_max_age']} (each worker keeps its PostgreSQL "
        "connection between requests), CONN_HEALTH_CHECKS off (the default), API_BENCH_ENDPOINTS=1 (the baseline "
        f"write). Load: wrk, {d['connections']} connections on {d['threads']} threads, {d['seconds']:.0f} s per "
        "endpoint, in the order health, baseline write, balance, confirmation, baseline write, health; every request "
        "carries its own path and token (`bench/_api_wrk.lua`); the balance reads cycle over residents of each "
        "token's area, each confirmation confirms a different visit (its town's social worker confirms, as at the "
        "station). **Baseline** = the mean of the two runs of `POST /api/v1/bench/write`: the least a Django write "
        "can do (token authentication, one INSERT in a transaction, commit). The trivial `GET /api/v1/health` (no "
        "database, no auth) is kept for information. wrk, gunicorn, PostgreSQL and other sessions' work share the "
        "machine's cores.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in m.items()),
        f"| load | {d['load']} (1/5/15-min load average at the start; {d['load_end']} at the end) |",
        "",
        "## Results against the targets",
        "",
        "CPU per request = the CPU time of the gunicorn workers (server), of PostgreSQL (all databases, so other "
        "sessions' queries too) and of wrk (client) over the run, divided by the requests answered. Statements = "
        "SQL statements per request in the in-process profile, BEGIN and COMMIT of a write included.",
        "",
        "| endpoint | ok requests/s | ratio to baseline | ratio to health | p50 ms (ratio) | p99 ms (ratio) | 2xx | "
        "non-2xx | CPU ms per request: server / PostgreSQL / client | statements |",
        "|---|---|---|---|---|---|---|---|---|---|",
        row("`GET /api/v1/health` (before)", h1, "health"),
        row("`GET /api/v1/health` (after)", h2, "health"),
        row("`POST /api/v1/bench/write` (before)", w1, "write", base=True),
        row("`POST /api/v1/bench/write` (after)", w2, "write", base=True),
        row("`GET /api/v1/ledger/residents/{id}/balance`", bal, "balance"),
        row("`POST /api/v1/visits/{id}/confirm`", conf, "confirm"),
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| confirmation ≥ {TARGET_RATIO}× the baseline write (requests/s) | {pct(conf_ratio)} "
        f"({conf['rps']:,.1f} vs {base_rps:,.1f}/s) | "
        f"{verdict(conf_ratio >= TARGET_RATIO, f'{100 * conf_ratio / TARGET_RATIO:.0f}% of target')} |",
        f"| confirmation p99 < {TARGET_P99_MS:.0f} ms at {d['connections']} connections | {p99c:,.1f} ms | "
        f"{verdict(p99c < TARGET_P99_MS, f'{p99c / TARGET_P99_MS:.1f}× the limit')} |",
        f"| balance reads ≥ {TARGET_BALANCE_RATIO}× the baseline write (requests/s) | {pct(bal_ratio)} "
        f"({bal['rps']:,.1f} vs {base_rps:,.1f}/s) | "
        f"{verdict(bal_ratio >= TARGET_BALANCE_RATIO, f'{100 * bal_ratio / TARGET_BALANCE_RATIO:.0f}% of target')} |",
        f"| (for information) confirmation ÷ health, balance ÷ health | {pct(conf['rps'] / health_rps)}, "
        f"{pct(bal['rps'] / health_rps)} | — |",
        f"| (for information) balance read p99 | {p99b:,.1f} ms | — |",
        "",
        "## Correctness of the run",
        "",
        f"* Non-2xx responses: **{non2xx}**; socket errors and timeouts: **{errs}**"
        + (f". Samples: `{samples[:400]}`" if samples else "."),
        f"* Confirmation requests answered 2xx: {conf['ok']:,}; visits sent (each once): {conf['sent']:,} of "
        f"{d['visits'] - HOLD_BACK:,} available"
        + (
            " (**all used before the end: raise --visits; the rate is then a lower bound**)"
            if exhausted
            else " (not exhausted)"
        )
        + f". In the database afterwards: {ver['confirmed']:,} of the load's visits confirmed "
        f"(statuses {ver['sent_visits_by_status']}), {ver['credit_transfers']:,} credit transfers "
        f"`visit-<id>-credit` with ref `visit:<id>` ({ver['cap_overflow_transfers']} balance-cap overflows to the "
        f"pool, same ref), visits breaking the one-transfer-per-confirmed-visit rule: **{ver['n_bad']}**"
        + (f" {ver['visits_breaking_one_transfer_rule']}" if ver["n_bad"] else "")
        + ". Confirmed visits equal 2xx answers: "
        + ("**yes**." if ver["confirmed"] == conf["ok"] else f"**no** ({ver['confirmed']} vs {conf['ok']}).")
        + " (A visit whose request was still in flight when wrk stopped may be confirmed without a counted answer.)",
        f"* Tracebacks in gunicorn's error log: {d['server_errors']}.",
        "",
        "## Where the time goes",
        "",
        f"In-process profile (`bench/_api_profile.py`: Django's test client through the whole stack on the same "
        f"database, after the load, {pc['requests']} requests of each kind; statuses {pc['statuses']} / "
        f"{pb['statuses']}{' / ' + str(pw['statuses']) if pw else ''}): a confirmation costs "
        f"**{pc['wall_ms_per_request']:.1f} ms** of one core with **{statements['confirm']:.0f} SQL statements** "
        f"({pc['sql_ms_per_request']:.1f} ms of it inside the database calls as Django times them), a balance read "
        f"{pb['wall_ms_per_request']:.1f} ms with {statements['balance']:.0f}"
        + (f", the baseline write {pw['wall_ms_per_request']:.1f} ms with {statements['write']:.0f}" if pw else "")
        + ". Own time (cProfile tottime) by layer, ms per request:",
        "",
        "| layer | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        bucket_rows,
        "",
        f"Cumulative time in Time Bank functions, {pc['requests']} confirmations (calls, tottime, per call, cumtime, "
        "per call):",
        "",
        "```",
        top,
        "```",
        "",
        d["analysis"],
        END,
    ]
    return "\n".join(ln for ln in lines if ln is not None) + "\n"


def analysis(d: dict[str, Any]) -> str:
    w1, w2, conf = d["write1"], d["write2"], d["confirm"]
    base = (w1["rps"] + w2["rps"]) / 2
    pc, pw = d["profile"]["confirm"], d["profile"].get("write")
    ncpu = os.cpu_count() or 2
    cpu_conf = 1000 * (conf["cpu_gunicorn_cores"] + conf["cpu_postgres_cores"]) / max(conf["rps"], 0.001)
    cpu_base = (
        1000
        * (w1["cpu_gunicorn_cores"] + w1["cpu_postgres_cores"] + w2["cpu_gunicorn_cores"] + w2["cpu_postgres_cores"])
        / max(w1["rps"] + w2["rps"], 0.001)
    )
    return (
        "**What limits it.** The run is CPU-bound on "
        f"{ncpu} shared cores (during the confirmation run {100 * conf['cpu_busy']:.0f}% busy: gunicorn "
        f"{conf['cpu_gunicorn_cores']:.2f} cores, PostgreSQL {conf['cpu_postgres_cores']:.2f}, wrk "
        f"{conf['cpu_wrk_cores']:.2f}, other processes {max(conf['cpu_other_cores'], 0):.2f}), so the ratio to the "
        "baseline is the ratio of the CPU each request costs: server and PostgreSQL together "
        f"~{cpu_conf:.1f} ms per confirmation against ~{cpu_base:.1f} ms per baseline write ({base:,.0f}/s). "
        f"In-process a confirmation takes {pc['wall_ms_per_request']:.1f} ms"
        + (f" and the baseline write {pw['wall_ms_per_request']:.1f} ms" if pw else "")
        + ": the difference is the work the baseline does not do (the visit locked with its need and the scope "
        "check in one query, the ledger posting with its guards, two audit events, the visit and the need "
        "updated) and the ORM building those statements. The p50 under load is about connections / throughput "
        "(Little's law): requests wait for a core; a confirmation locks only its visit and need rows and the "
        "volunteer's account, so confirmations of different visits do not queue on each other, except those paid "
        "by the public pool (one row). The commit waits for the WAL to reach the disk in both the confirmation "
        "and the baseline (kept: confirmed hours must survive a crash)."
    )


def write(out: Path, section: str) -> None:
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    out.write_text(text, encoding="utf-8")


def conn_max_age(env: dict[str, str]) -> str:
    """CONN_MAX_AGE the server ran with: the environment's, else the settings' default."""
    if env.get("CONN_MAX_AGE"):
        return env["CONN_MAX_AGE"]
    settings = (ROOT / "timebank" / "settings.py").read_text(encoding="utf-8")
    found = re.search(r'env\.int\("CONN_MAX_AGE", default=(\d+)\)', settings)
    return f"{found.group(1)} s" if found else "as configured"


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            probe = urllib.request.Request(url + "/api/v1/health", headers=dict([PROXY_HEADER]))
            with urllib.request.urlopen(probe, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=15, help="length of each wrk run")
    ap.add_argument("--visits", type=int, default=1000, help="checked-out visits to confirm (some held back)")
    ap.add_argument("--scale", default="small", choices=["tiny", "small"])
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    ap.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    ap.add_argument("--db", default="tb_bench_api")
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--out", default=str(BENCH / "RESULTS.md"), help="'' = print only")
    ap.add_argument("--residents", type=int, default=None, help="ignored (accepted for make bench's BENCH_ARGS)")
    ap.add_argument("--loaded", action="store_true", help="mark the report as a run on a machine busy with other work")
    args = ap.parse_args()
    if not args.db.startswith("tb_bench"):
        sys.exit("--db must be a scratch database named tb_bench*")
    if shutil.which("wrk") is None:
        print("api_bench: wrk is not installed (Debian: apt-get install -y wrk); skipped", file=sys.stderr)
        return 2

    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    py = sys.executable
    db_url = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{args.db}"
    rate_limit = 10**9
    env = production_env(
        dict(os.environ),
        DJANGO_SETTINGS_MODULE="timebank.settings",
        DATABASE_URL=db_url,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        API_RATE_LIMIT=str(rate_limit),
        API_BENCH_ENDPOINTS="1",
        PYTHONWARNINGS="ignore",
    )
    log(f"scratch database {args.db}")
    pg_cmd("dropdb", "--if-exists", args.db)
    pg_cmd("createdb", args.db)
    tmp = Path(tempfile.mkdtemp(prefix="api_bench_"))
    server: subprocess.Popen[bytes] | None = None
    try:
        run([py, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        log(f"seed_demo --scale {args.scale}")
        run([py, "manage.py", "seed_demo", "--scale", args.scale], env, stdout=subprocess.DEVNULL)
        log(f"{args.visits} checked-out visits through the care services (2 processes), API tokens")
        tok = run([py, "bench/_api_setup.py", "--visits", "0", "--tokens"], env, capture_output=True).stdout
        parts = [
            subprocess.Popen(
                [py, "bench/_api_setup.py", "--visits", str(args.visits), "--part", str(i), "--parts", "2"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]
        outs = [p.communicate()[0] for p in parts]
        if any(p.returncode for p in parts):
            raise RuntimeError("visit setup failed")
        tokens = {d["user"]: d for d in map(json.loads, tok.splitlines())}
        visits = [json.loads(ln) for out in outs for ln in out.splitlines()]
        visits.sort(key=lambda v: v["visit"])
        # interleave the towns so that concurrent requests come from every area
        visits = [v for _, v in sorted(enumerate(visits), key=lambda iv: (iv[0] % 97, iv[0]))]
        held, load_visits = visits[:HOLD_BACK], visits[HOLD_BACK:]
        setup_s = time.perf_counter() - T0
        log(f"setup done: {len(visits)} visits, {len(tokens)} tokens")

        def targets(name: str, rows: list[str]) -> Path:
            p = tmp / name
            p.write_text("\n".join(rows) + "\n", encoding="utf-8")
            return p

        f_health = targets("health.txt", ["/api/v1/health -"] * 64)
        f_write = targets("write.txt", [f"/api/v1/bench/write {t['token']}" for t in tokens.values()] * 4)
        bal_rows = [
            f"/api/v1/ledger/residents/{r}/balance {t['token']}" for t in tokens.values() for r in t["residents"][:40]
        ]
        f_bal = targets("balance.txt", bal_rows)
        f_conf = targets(
            "confirm.txt", [f"/api/v1/visits/{v['visit']}/confirm {tokens[v['user']]['token']}" for v in load_visits]
        )
        f_held = targets(
            "held.txt", [f"/api/v1/visits/{v['visit']}/confirm {tokens[v['user']]['token']}" for v in held]
        )

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        gcmd = [
            str(Path(py).parent / "gunicorn"),
            "timebank.wsgi",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--error-logfile",
            str(tmp / "gunicorn.log"),
            "--timeout",
            "60",
        ]
        if args.worker_class == "gthread":
            gcmd += ["--threads", str(max(args.connections // args.workers, 1))]
        server = subprocess.Popen(gcmd, env=env, cwd=ROOT)
        wait_up(url, server)
        log(f"gunicorn up on {url}; warm-up")
        wrk(url, f_bal, "GET", 3, "cycle", args.connections, args.threads)
        res: dict[str, Any] = {}
        res["health1"] = measure(url, f_health, "GET", args.seconds, "cycle", args, server.pid)
        res["write1"] = measure(url, f_write, "POST", args.seconds, "cycle", args, server.pid)
        res["balance"] = measure(url, f_bal, "GET", args.seconds, "cycle", args, server.pid)
        res["confirm"] = measure(url, f_conf, "POST", args.seconds, "once", args, server.pid)
        res["write2"] = measure(url, f_write, "POST", args.seconds, "cycle", args, server.pid)
        res["health2"] = measure(url, f_health, "GET", args.seconds, "cycle", args, server.pid)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        server = None
        log_text = (tmp / "gunicorn.log").read_text(encoding="utf-8", errors="replace")
        server_errors = log_text.count("Traceback")

        log("verify: one transfer per confirmed visit")
        sent_ids = [v["visit"] for v in load_visits]
        res["verify"] = verify(db_url, sent_ids, [v["visit"] for v in held])
        log(json.dumps(res["verify"]))

        log("in-process profile")
        penv = dict(env, ALLOWED_HOSTS="127.0.0.1,testserver")
        pout = run(
            [py, "bench/_api_profile.py", str(f_held), str(f_bal), str(f_write), "--n", "20"],
            penv,
            capture_output=True,
        )
        res["profile"] = json.loads(next(ln for ln in pout.stdout.splitlines() if ln.startswith("PROFILE "))[8:])
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        if not args.keep_db:
            pg_cmd("dropdb", "--if-exists", args.db)
        shutil.rmtree(tmp, ignore_errors=True)

    command = os.environ.get("BENCH_COMMAND") or "make bench"
    if "api_bench" not in command and "make bench" not in command:
        command = ".venv/bin/python bench/api_bench.py"
    data: dict[str, Any] = {
        **res,
        "command": command,
        "started": started,
        "scale": args.scale,
        "visits": len(visits),
        "tokens": len(tokens),
        "seconds": args.seconds,
        "connections": args.connections,
        "threads": args.threads,
        "rate_limit": rate_limit,
        "conn_max_age": conn_max_age(env),
        "gunicorn_cmd": "gunicorn timebank.wsgi "
        + f"--workers {args.workers} --worker-class {args.worker_class}"
        + (f" --threads {max(args.connections // args.workers, 1)}" if args.worker_class == "gthread" else ""),
        "root": str(ROOT),
        "source": os.environ.get("BENCH_SOURCE") or f"the working tree at {ROOT}",
        "machine": machine(),
        "load": load,
        "load_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "loaded": args.loaded or os.getloadavg()[0] > (os.cpu_count() or 2),
        "setup_s": setup_s,
        "server_errors": server_errors,
        "total_s": time.perf_counter() - T0,
    }
    data["analysis"] = analysis(data)
    raw = BENCH / ".results"
    raw.mkdir(exist_ok=True)
    (raw / "api.json").write_text(json.dumps(data, indent=1, default=str))
    section = report(data)
    print(section)
    if args.out:
        write(Path(args.out), section)
        log(f"wrote {os.path.relpath(args.out, ROOT)}")
    bad = res["verify"]["n_bad"] or sum(
        res[k]["non2xx"] for k in ("health1", "health2", "write1", "write2", "balance", "confirm")
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
