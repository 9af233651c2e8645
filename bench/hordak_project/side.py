"""The django-hordak side of the ledger benchmark; run by bench/ledger_bench.py with bench/.venv-hordak's Python.

    side.py setup CODES_FILE            migrate, open one hordak account per Time Bank account code
    side.py serve WRITERS               time-boxed postings through hordak's API (WriterPool processes);
                                        phases come as JSON lines on standard input
    side.py load TSV                    replace all transactions by exactly the Time Bank's transfers
    side.py read STATEMENT_ACCOUNTS     1,000 balance reads and the last-100 statements

Each command prints one JSON object on its last line of standard output.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # bench/: _pool and hordak_project
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hordak_project.settings")


def _django() -> None:
    import django

    django.setup()


def cmd_setup(codes_file: str) -> dict:
    _django()
    from django.core.management import call_command
    from django.db import transaction
    from hordak.models import Account

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - t0
    codes = [c for c in Path(codes_file).read_text().split() if c]
    t0 = time.perf_counter()
    with transaction.atomic():
        for n, code in enumerate(codes, start=1):
            # Increasing codes keep MPTT from renumbering the other trees on every insert.
            kind = "EQ" if code in ("issuance", "guarantee") else "LI"
            Account(name=code, code=f"{n:06d}", type=kind, currencies=["CNY"]).save()
    return {"migrate_s": migrated, "accounts": len(codes), "accounts_s": time.perf_counter() - t0}


def cmd_serve(size: str) -> dict:
    """Keep ``size`` writer processes and run the phases read as JSON lines from standard input
    ({"op", "writers", "seconds", "tag"}), answering each with one JSON line, until end of input."""
    from _pool import WriterPool

    pool = WriterPool(int(size), "hordak_project.ops")
    print(json.dumps({"ready": True}), flush=True)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            phase = json.loads(line)
            if phase.get("checkpoint"):
                _checkpoint()
            result = pool.run(phase["op"], phase["writers"], phase["seconds"], {"tag": phase["tag"]})
            print(json.dumps(result), flush=True)
    finally:
        pool.close()
    return {"closed": True}


def _checkpoint() -> None:
    import psycopg

    url = os.environ.get("HORDAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tb_bench_hordak")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def cmd_load(tsv: str) -> dict:
    """Replace every hordak transaction by the Time Bank's transfers, in the same order (bulk SQL: this is
    data loading for the read comparison, not a measured posting path)."""
    _django()
    from django.db import connection, transaction

    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("TRUNCATE hordak_leg, hordak_transaction RESTART IDENTITY CASCADE")
        cur.execute(
            "CREATE TEMP TABLE stage (seq bigint, debit text, credit text, amount numeric, day date) ON COMMIT DROP"
        )
        with cur.cursor.copy("COPY stage FROM STDIN") as copy, open(tsv, "rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        cur.execute(
            "INSERT INTO hordak_transaction (id, uuid, timestamp, date, description) "
            "SELECT seq, gen_random_uuid(), now(), day, '' FROM stage ORDER BY seq"
        )
        cur.execute(
            "INSERT INTO hordak_leg (id, uuid, transaction_id, account_id, currency, credit, debit, description) "
            "SELECT x.id, gen_random_uuid(), x.seq, a.id, 'CNY', x.credit, x.debit, '' FROM ("
            "  SELECT 2 * seq - 1 AS id, seq, debit AS name, NULL::numeric AS credit, amount AS debit FROM stage"
            "  UNION ALL"
            "  SELECT 2 * seq AS id, seq, credit AS name, amount AS credit, NULL::numeric AS debit FROM stage"
            ") x JOIN hordak_account a ON a.name = x.name ORDER BY x.id"
        )
        cur.execute("SELECT count(*) FROM stage")
        (count,) = cur.fetchone()
        cur.execute("SELECT setval(pg_get_serial_sequence('hordak_transaction', 'id'), GREATEST(%s, 1))", [count])
        cur.execute("SELECT setval(pg_get_serial_sequence('hordak_leg', 'id'), GREATEST(%s, 1))", [2 * count])
    with connection.cursor() as cur:
        cur.execute("ANALYZE hordak_leg")
        cur.execute("ANALYZE hordak_transaction")
    return {"transfers": count, "load_s": time.perf_counter() - t0}


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _amount(value: object) -> str:
    """The number in a hordak Balance or Money (one currency here)."""
    if hasattr(value, "monies"):
        monies = value.monies()
        return str(monies[0].amount) if monies else "0"
    return str(getattr(value, "amount", value))


def cmd_read(names_csv: str) -> dict:
    _django()
    from hordak.models import Account

    residents = list(Account.objects.filter(name__startswith="p:").order_by("id"))
    result: dict = {"accounts": len(residents)}

    def balances() -> list:
        return [a.get_balance() for a in residents]

    balances()  # warm
    t, values = _median_time(balances, 3)
    result["balances_s"] = t
    result["balance_sample"] = {a.name: str(v) for a, v in list(zip(residents, values, strict=True))[:3]}

    def bulk() -> list:
        return list(Account.objects.filter(name__startswith="p:").with_balances().values_list("name", "balance"))

    bulk()
    result["bulk_balances_s"], _rows = _median_time(bulk, 3)

    statements = {}
    for name in names_csv.split(","):
        account = Account.objects.get(name=name)

        def statement(account=account) -> list:
            legs = list(account.legs.with_account_balance_after().select_related("transaction").order_by("-id")[:100])
            return [(leg.transaction_id, str(leg.amount.amount), leg.account_balance_after) for leg in legs]

        t0 = time.perf_counter()
        lines = statement()
        first = time.perf_counter() - t0
        if first < 0.5:  # cheap enough to repeat; a slow one is timed once (its cost is the point)
            t, lines = _median_time(statement, 5)
        else:
            t = first
        statements[name] = {
            "seconds": t,
            "entries": account.legs.count(),
            "lines": len(lines),
            "balances": [_amount(b) for (_tid, _amt, b) in lines],
            "first_tid": lines[0][0] if lines else None,
        }
    result["statements"] = statements
    return result


def main() -> None:
    cmd, arg = sys.argv[1], sys.argv[2]
    out = {"setup": cmd_setup, "serve": cmd_serve, "load": cmd_load, "read": cmd_read}[cmd](arg)
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
