"""Tamper evidence: ``ledger_seal`` and ``ledger_verify`` catch and name every edited, removed or inserted row.

To tamper, the tests switch the append-only triggers off the way an intruder with database rights would
(PostgreSQL: ``DISABLE TRIGGER USER``; SQLite: drop the triggers, recreated from ``sql/sqlite.sql`` after).
"""

from __future__ import annotations

import importlib
import io
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from timebank.ledger import services
from timebank.ledger.marks import transfer_mark
from timebank.ledger.models import Account, Seal, Transfer
from timebank.ledger.sealing import GENESIS, seal_transfers, verify_ledger

pytestmark = pytest.mark.django_db

_SQL_DIR = Path(importlib.import_module("timebank.ledger").__file__).resolve().parent / "sql"


def _current_statements(vendor: str) -> list[str]:
    """The ledger's current SQL (``sql/<vendor>.sql``, equal to what the latest SQL migration installed)."""
    text = (_SQL_DIR / f"{vendor}.sql").read_text(encoding="utf-8")
    return [s.strip() for s in text.split("-- statement") if s.strip()]


def execute(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall() if cur.description else []


@contextmanager
def triggers_off(table: str) -> Iterator[None]:
    """Tamper like an intruder: the table's user triggers are off inside the block, back on after it."""
    if connection.vendor == "postgresql":
        # the test runs in one transaction: fire the deferred foreign-key checks first, or ALTER TABLE refuses
        execute("SET CONSTRAINTS ALL IMMEDIATE")
        execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            yield
        finally:
            execute("SET CONSTRAINTS ALL IMMEDIATE")
            execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            execute("SET CONSTRAINTS ALL DEFERRED")
        return
    names = [r[0] for r in execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])]
    assert names, f"no triggers on {table}"
    for name in names:
        execute(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        recreated = [sql for sql in _current_statements("sqlite") if any(f"TRIGGER {n} " in sql for n in names)]
        assert len(recreated) == len(names)
        for sql in recreated:
            execute(sql)


def verify_command() -> tuple[int, str]:
    """Run ``ledger_verify``: its exit status and its printed report."""
    out = io.StringIO()
    try:
        call_command("ledger_verify", stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def seal_command(**options) -> str:
    out = io.StringIO()
    call_command("ledger_seal", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def sealed(make_resident, fund):
    """A small sealed ledger: three residents and five transfers, all sealed."""
    a, b, c = make_resident("甲", 40), make_resident("乙", 40), make_resident("丙", 40)
    fund(a, 600)
    fund(b, 300)
    for i, (x, y, m) in enumerate([(a, b, 60), (b, c, 90), (a, c, 30)]):
        services.transfer_post(
            key=f"seal-fixture-{i}",
            debit=services.account_for(x),
            credit=services.account_for(y),
            minutes=m,
            kind=Transfer.Kind.ADJUSTMENT,
        )
    text = seal_command()
    assert "Sealed" in text
    transfers = list(Transfer.objects.order_by("id"))
    assert Seal.objects.order_by("-last_id").first().last_id == transfers[-1].pk
    return transfers


def problems(kind: str) -> list[str]:
    return [p.text for p in verify_ledger().problems if p.kind == kind]


def test_a_clean_ledger_verifies_with_exit_status_0(sealed):
    status, text = verify_command()
    assert status == 0, text
    assert "OK" in text and "FAILED" not in text
    assert f"transfers checked:     {len(sealed)}" in text
    assert "sum over all accounts: 0 minutes" in text
    assert "transfers not yet sealed: 0" in text
    report = verify_ledger()
    assert report.ok and report.total_minutes == 0 and report.unsealed == 0
    assert report.last_seal_hash == Seal.objects.order_by("-last_id").first().hash != GENESIS


def test_sealing_is_incremental_and_chained(sealed, make_resident):
    assert "Nothing to seal" in seal_command()
    a = make_resident("丁", 40)
    for i in range(5):
        services.service_credit(key=f"seal-more-{i}", volunteer=a, payer="government", elder=None, minutes=30)
    assert verify_ledger().unsealed == 5
    text = seal_command(size=2)
    assert "Sealed 5 transfers in 3 seal(s)" in text
    seals = list(Seal.objects.order_by("last_id"))
    for before, after in itertools.pairwise(seals):
        assert after.prev_hash == before.hash and after.first_id == before.last_id + 1
    status, report = verify_command()
    assert status == 0, report
    assert "transfers not yet sealed: 0" in report


def test_an_edited_amount_is_caught_and_named(sealed):
    victim = sealed[2]
    with triggers_off("ledger_transfer"):
        execute("UPDATE ledger_transfer SET amount = amount + 600 WHERE id = %s", [victim.pk])
    status, text = verify_command()
    assert status == 1
    assert f"[row_edited] transfer #{victim.pk} was changed" in text
    assert "FAILED" in text
    # the cached balances no longer match the (edited) transfers either
    assert problems("balance")
    # and only that row is named as edited
    assert problems("row_edited") == [p for p in problems("row_edited") if f"#{victim.pk} " in p]
    assert len(problems("row_edited")) == 1


def test_an_edited_memo_is_caught(sealed):
    victim = sealed[1]
    with triggers_off("ledger_transfer"):
        execute("UPDATE ledger_transfer SET memo = 'for nothing' WHERE id = %s", [victim.pk])
    status, text = verify_command()
    assert status == 1
    assert f"[row_edited] transfer #{victim.pk} " in text
    assert not problems("balance")  # the amounts are untouched: only the seal shows it


def test_a_deleted_row_is_caught_and_named(sealed):
    victim = sealed[3]
    with triggers_off("ledger_transfer"):
        execute("DELETE FROM ledger_transfer WHERE id = %s", [victim.pk])
    status, text = verify_command()
    assert status == 1
    assert f"[row_missing] transfer #{victim.pk} was sealed" in text
    assert len(problems("row_missing")) == 1


def test_an_inserted_row_inside_the_sealed_range_is_caught_and_named(make_resident, fund):
    """A row slipped into a gap of the sealed range (an id no transfer had when the seal was made)."""
    a, b = make_resident("甲", 40), make_resident("乙", 40)
    fund(a, 600)
    rows = []
    for i in range(3):
        rows.append(
            services.transfer_post(
                key=f"seal-gap-{i}",
                debit=services.account_for(a),
                credit=services.account_for(b),
                minutes=60,
                kind=Transfer.Kind.ADJUSTMENT,
            )
        )
    middle = rows[1]
    columns = [f.column for f in Transfer._meta.concrete_fields]
    values = Transfer.objects.values_list(*[f.attname for f in Transfer._meta.concrete_fields]).get(pk=middle.pk)
    # make the gap: take the middle row out before sealing ...
    with triggers_off("ledger_transfer"):
        execute("DELETE FROM ledger_transfer WHERE id = %s", [middle.pk])
    seal_transfers()
    assert Seal.objects.get().first_id <= middle.pk <= Seal.objects.get().last_id
    # ... and put a row with that id in after the seal (no trigger: the balances already count it)
    placeholders = ", ".join(["%s"] * len(columns))
    params = [
        connection.ops.adapt_datetimefield_value(v) if f.get_internal_type() == "DateTimeField" else v
        for f, v in zip(Transfer._meta.concrete_fields, values, strict=True)
    ]
    with triggers_off("ledger_transfer"):
        execute(f"INSERT INTO ledger_transfer ({', '.join(columns)}) VALUES ({placeholders})", params)
    status, text = verify_command()
    assert status == 1
    assert f"[row_inserted] transfer #{middle.pk} was inserted" in text
    report = verify_ledger()
    assert [p.kind for p in report.problems] == ["row_inserted"], report.problems


def test_an_edited_cached_balance_is_a_balance_problem(sealed):
    account = Account.objects.get(pk=sealed[1].credit_account_id)
    execute("UPDATE ledger_account SET credits_posted = credits_posted + 60 WHERE id = %s", [account.pk])
    status, text = verify_command()
    assert status == 1
    assert f"[balance] account {account.code} " in text
    assert "[conservation] the accounts sum to 60 minutes instead of 0" in text
    assert "sum over all accounts: 60 minutes" in text


def test_a_tampered_seal_breaks_the_chain(sealed, make_resident):
    a = make_resident("丁", 40)
    services.service_credit(key="seal-chain-1", volunteer=a, payer="government", elder=None, minutes=30)
    seal_transfers()
    first = Seal.objects.order_by("last_id").first()
    with triggers_off("ledger_seal"):
        execute("UPDATE ledger_seal SET hash = %s WHERE id = %s", ["f" * 64, first.pk])
    status, text = verify_command()
    assert status == 1
    assert f"[chain] seal {first.pk} " in text and "its own hash does not match" in text
    assert "does not link to the seal before it" in text  # the next seal points at the old hash


def test_triggers_are_back_after_tampering(sealed):
    with triggers_off("ledger_transfer"):
        pass
    with pytest.raises(IntegrityError), transaction.atomic():
        execute("DELETE FROM ledger_transfer WHERE id = %s", [sealed[0].pk])
    # the insert trigger is back too: a new transfer moves the cached balance
    a = Account.objects.get(pk=sealed[1].credit_account_id)
    before = a.credits_posted
    services.transfer_post(
        key="seal-after-1",
        debit=services.system_account("issuance"),
        credit=a,
        minutes=30,
        kind=Transfer.Kind.ADJUSTMENT,
    )
    a.refresh_from_db()
    assert a.credits_posted == before + 30
    assert verify_ledger().ok


def test_a_gap_in_the_ids_longer_than_a_seal_keeps_the_chain_contiguous(make_resident):
    """Ids are not dense (rolled-back inserts use up sequence values): an empty range must not break the chain."""
    v = make_resident("戊", 40)
    services.service_credit(key="seal-gap-before", volunteer=v, payer="government", elder=None, minutes=30)
    last = Transfer.objects.order_by("-id").first()
    far = last.pk + 25
    # a row written by the application with raw SQL (so it carries a genuine mark), far after the last id
    row = Transfer(
        key="seal-gap-far",
        request_hash="raw",
        debit_account_id=last.debit_account_id,
        credit_account_id=last.credit_account_id,
        amount=30,
        kind="adjustment",
        phase="posted",
        created_at=last.created_at,
    )
    execute(
        "INSERT INTO ledger_transfer (id, key, request_hash, debit_account_id, credit_account_id, amount, kind, phase,"
        " memo, ref, created_at, mark)"
        " VALUES (%s, 'seal-gap-far', 'raw', %s, %s, 30, 'adjustment', 'posted', '', '', %s, %s)",
        [
            far,
            last.debit_account_id,
            last.credit_account_id,
            connection.ops.adapt_datetimefield_value(last.created_at),
            transfer_mark(row),
        ],
    )
    services.service_credit(key="seal-gap-after", volunteer=v, payer="government", elder=None, minutes=30)
    seals = seal_transfers(size=7)
    assert sum(s.count for s in seals) == Transfer.objects.count()
    for before, after in itertools.pairwise(Seal.objects.order_by("last_id")):
        assert after.first_id == before.last_id + 1
    report = verify_ledger()
    assert report.ok, report.problems
    assert report.unsealed == 0


def _full_sum_outstanding() -> int:
    """The city's outstanding minutes summed over every transfer of the issuance account (no snapshot)."""
    issuance = Account.objects.get(code="issuance")
    posted = Transfer.objects.filter(phase__in=["posted", "post"])
    debits = sum(posted.filter(debit_account=issuance).values_list("amount", flat=True))
    credits = sum(posted.filter(credit_account=issuance).values_list("amount", flat=True))
    return debits - credits


def test_seals_snapshot_the_derived_balances_and_reads_start_from_the_snapshot(sealed, make_resident, supervisor):
    from django.test.utils import CaptureQueriesContext

    from timebank.ledger.selectors import outstanding_hours

    seal = Seal.objects.order_by("-last_id").first()
    issuance, guarantee = Account.objects.get(code="issuance"), Account.objects.get(code="guarantee")
    assert set(seal.derived) == {str(issuance.pk), str(guarantee.pk)}
    assert seal.derived[str(issuance.pk)][0] == _full_sum_outstanding()  # everything issued so far
    # after the seal: more issued, some returned; the read is the snapshot plus what came after it
    v = make_resident("己", 40)
    services.service_credit(key="snap-after-1", volunteer=v, payer="government", elder=None, minutes=45)
    credit = services.service_credit(key="snap-after-2", volunteer=v, payer="government", elder=None, minutes=30)
    services.transfer_reverse(key="snap-after-3", original=credit.transfer, actor=supervisor, reason="测试")
    with CaptureQueriesContext(connection) as ctx:
        assert outstanding_hours() == _full_sum_outstanding()
    after = [q["sql"] for q in ctx.captured_queries if "ledger_transfer" in q["sql"] and "SUM" in q["sql"].upper()]
    assert after and all(f"> {seal.last_id}" in sql for sql in after if "pending" not in sql)
    seal_transfers()
    assert outstanding_hours() == _full_sum_outstanding()
    assert verify_ledger().ok


def test_a_tampered_snapshot_is_caught_and_named(sealed):
    seal = Seal.objects.order_by("-last_id").first()
    issuance = Account.objects.get(code="issuance")
    derived = dict(seal.derived)
    derived[str(issuance.pk)] = [derived[str(issuance.pk)][0] - 600, derived[str(issuance.pk)][1]]
    with triggers_off("ledger_seal"):
        execute("UPDATE ledger_seal SET derived = %s WHERE id = %s", [json.dumps(derived), seal.pk])
    found = problems("snapshot")
    assert len(found) == 1 and f"account #{issuance.pk}" in found[0]
    assert "its own hash does not match" in " ".join(problems("chain"))
