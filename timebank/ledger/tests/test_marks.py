"""Marks: a transfer inserted, edited or deleted around the application is named by id, sealed or not.

The intruder has database rights but not the application's ``LEDGER_MARK_KEY``. He switches the triggers
off (``ALTER TABLE … DISABLE TRIGGER USER``, or on PostgreSQL ``SET session_replication_role = replica``,
which also switches off the foreign-key checks) and writes raw SQL.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from timebank.ledger import marks, services
from timebank.ledger.models import Account, Transfer
from timebank.ledger.sealing import seal_transfers, verify_ledger
from timebank.ledger.services import BatchEntry
from timebank.ledger.tests.test_sealing import execute, triggers_off, verify_command

pytestmark = pytest.mark.django_db

COLUMNS = [f for f in Transfer._meta.concrete_fields if not f.primary_key]


@contextmanager
def replica_role() -> Iterator[None]:
    """PostgreSQL: every trigger off, the foreign-key checks too (what ``pg_restore``-style tools do)."""
    execute("SET CONSTRAINTS ALL IMMEDIATE")
    execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        execute("SET session_replication_role = DEFAULT")
        execute("SET CONSTRAINTS ALL DEFERRED")


def raw_insert(values: dict[str, Any]) -> int:
    """Insert a transfer row with plain SQL (the caller has switched the triggers off); returns its id."""
    names = [f.column for f in COLUMNS]
    params = [
        connection.ops.adapt_datetimefield_value(values[f.attname])
        if f.get_internal_type() == "DateTimeField"
        else values[f.attname]
        for f in COLUMNS
    ]
    placeholders = ", ".join(["%s"] * len(names))
    execute(f"INSERT INTO ledger_transfer ({', '.join(names)}) VALUES ({placeholders})", params)
    return int(execute("SELECT id FROM ledger_transfer WHERE key = %s", [values["key"]])[0][0])


def values_of(transfer: Transfer) -> dict[str, Any]:
    return {f.attname: getattr(transfer, f.attname) for f in COLUMNS}


def problem_texts(kind: str) -> list[str]:
    return [p.text for p in verify_ledger().problems if p.kind == kind]


def forged_ids() -> list[int]:
    return [int(t.split("#")[1].split(":")[0]) for t in problem_texts("row_forged")]


@pytest.fixture
def ledger(make_resident, fund, supervisor):
    """Postings of every shape: credits, a hold posted, a hold voided, a reversal, a family transfer, a batch."""
    a, b, c = make_resident("甲", 40), make_resident("乙", 40), make_resident("丙", 70)
    fund(a, 600)
    services.service_credit(key="mark-credit-1", volunteer=b, payer="government", elder=None, minutes=90)
    held = services.service_credit(
        key="mark-hold-1", volunteer=b, payer="government", elder=None, minutes=60, hold=True
    )
    services.hold_post(key="mark-hold-1-post", pending=held.transfer, minutes=30)
    held2 = services.service_credit(
        key="mark-hold-2", volunteer=c, payer="government", elder=None, minutes=45, hold=True
    )
    services.hold_void(key="mark-hold-2-void", pending=held2.transfer)
    wrong = services.transfer_post(
        key="mark-wrong-1",
        debit=services.account_for(a),
        credit=services.account_for(c),
        minutes=120,
        kind=Transfer.Kind.ADJUSTMENT,
        memo="typed 120 instead of 12",
    )
    services.transfer_reverse(key="mark-reverse-1", original=wrong, actor=supervisor, reason="输入错误")
    issuance = services.system_account("issuance")
    services.batch_post(
        key="mark-batch-1",
        entries=[
            BatchEntry("1", issuance, services.account_for(a), 30, Transfer.Kind.GROUP_CREDIT, memo="重阳节活动"),
            BatchEntry("2", issuance, services.account_for(b), 30, Transfer.Kind.GROUP_CREDIT, memo="重阳节活动"),
        ],
        actor=supervisor,
    )
    return {"a": a, "b": b, "c": c, "held": held.transfer, "wrong": wrong}


# ------------------------------------------------------------------------------------------- genuine rows


def test_every_genuine_posting_is_marked_and_verifies_clean(ledger):
    rows = list(Transfer.objects.order_by("id"))
    assert {r.phase for r in rows} == {"posted", "pending", "post", "void"}
    assert any(r.reverses_id for r in rows) and any(r.batch_id for r in rows)
    for row in rows:  # as read back from the database: the same mark as computed on insert
        assert len(row.mark) == 64
        assert row.mark == marks.transfer_mark(row)
        assert marks.verify_mark({n: getattr(row, n) for n in marks.MARKED_FIELDS}, row.mark)
    status, text = verify_command()
    assert status == 0, text
    assert f"marks checked:         {len(rows)}" in text
    seal_transfers()
    report = verify_ledger()
    assert report.ok, report.problems
    assert report.marks == len(rows) and report.unsealed == 0


def test_the_mark_covers_every_column_but_the_id_and_itself():
    columns = {f.attname for f in Transfer._meta.concrete_fields}
    assert set(marks.ALL_MARKED_FIELDS) == columns - {"id", "mark"}, "a new column goes into marks.LATER_FIELDS"
    # the mark is computed in its field's pre_save, which must run after created_at got its value
    order = [f.attname for f in Transfer._meta.concrete_fields]
    assert order[-1] == "mark"


def test_the_mark_is_an_hmac_with_the_application_key(ledger, settings):
    row = Transfer.objects.order_by("id").first()
    message = marks.mark_message({n: getattr(row, n) for n in marks.MARKED_FIELDS})
    assert row.mark == hmac.new(settings.LEDGER_MARK_KEY.encode(), message, hashlib.sha256).hexdigest()
    # a plain hash (no key), or the HMAC with another key, is not the mark
    assert row.mark != hashlib.sha256(message).hexdigest()
    settings.LEDGER_MARK_KEY = "another-key"
    assert marks.transfer_mark(row) != row.mark
    assert [p.kind for p in verify_ledger().problems] == ["row_forged"] * Transfer.objects.count()


def test_each_field_changes_the_mark(ledger):
    row = Transfer.objects.filter(pending__isnull=False).first()
    base = {n: getattr(row, n) for n in marks.MARKED_FIELDS}
    for name in marks.MARKED_FIELDS:
        changed = dict(base)
        value = base[name]
        if name == "created_at":
            changed[name] = value.replace(microsecond=(value.microsecond + 1) % 1_000_000)
        elif isinstance(value, int):
            changed[name] = value + 1
        elif value is None:
            changed[name] = 1
        else:
            changed[name] = value + "x"
        assert not marks.verify_mark(changed, row.mark), name
    # no field borrows characters from the next one
    moved = dict(base, memo=base["memo"] + "1", ref=base["ref"])
    assert marks.mark_message(moved) != marks.mark_message(base)


def test_a_column_added_later_keeps_the_old_marks_and_is_covered_when_set(ledger, monkeypatch):
    row = Transfer.objects.order_by("id").first()
    base = {n: getattr(row, n) for n in marks.MARKED_FIELDS}
    monkeypatch.setattr(marks, "LATER_FIELDS", {"namespace": ""})
    assert marks.verify_mark(base, row.mark)  # the row from before the column
    assert marks.verify_mark(base | {"namespace": ""}, row.mark)  # the column at its default
    assert not marks.verify_mark(base | {"namespace": "client:7"}, row.mark)  # set by an intruder
    made = marks.transfer_mark(base | {"namespace": "client:7"})
    assert marks.verify_mark(base | {"namespace": "client:7"}, made)
    assert not marks.verify_mark(base | {"namespace": ""}, made)  # cleared by an intruder


def test_a_row_without_a_mark_is_refused(ledger):
    row = Transfer.objects.filter(phase="posted").first()
    values = values_of(row) | {"key": "mark-none-1", "mark": ""}
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_insert(values)


# ------------------------------------------------------------------------------------------- inserted rows


def _forged_copy(row: Transfer, key: str, **changes: Any) -> dict[str, Any]:
    """A new row like ``row`` (its mark copied, or a random one): what an intruder without the key can do."""
    return values_of(row) | {"key": key} | changes


@pytest.mark.parametrize("mark", ["copied", "random", "plain_sha256"])
def test_a_row_inserted_after_the_last_seal_is_named_by_id(ledger, mark):
    seal_transfers()
    genuine = Transfer.objects.filter(kind=Transfer.Kind.SERVICE_CREDIT, phase="posted").first()
    values = _forged_copy(genuine, "forged-after-seal", amount=6000)
    if mark == "random":
        values["mark"] = secrets.token_hex(32)
    elif mark == "plain_sha256":
        values["mark"] = hashlib.sha256(marks.mark_message({n: values[n] for n in marks.MARKED_FIELDS})).hexdigest()
    with triggers_off("ledger_transfer"):
        forged = raw_insert(values)
    report = verify_ledger()
    assert report.unsealed == 1
    assert forged_ids() == [forged]
    status, text = verify_command()
    assert status == 1
    assert f"[row_forged] transfer #{forged}: its mark does not match" in text
    # sealing does not bless it: sealed, it is still named by id
    seal_transfers()
    assert verify_ledger().unsealed == 0
    assert forged_ids() == [forged]


def test_a_row_inserted_before_a_seal_is_named_by_id_once_sealed(ledger):
    genuine = Transfer.objects.filter(kind=Transfer.Kind.FAMILY_TRANSFER).first() or Transfer.objects.first()
    with triggers_off("ledger_transfer"):
        forged = raw_insert(_forged_copy(genuine, "forged-before-seal", memo="extra"))
    seal_transfers()
    report = verify_ledger()
    assert report.unsealed == 0
    assert forged_ids() == [forged]
    assert not problem_texts("row_inserted")  # the seal took it in: only its mark gives it away


@pytest.mark.postgres
def test_a_row_inserted_under_the_replica_role_is_named_by_id(ledger):
    """``session_replication_role = replica`` turns off every trigger and the foreign keys as well."""
    seal_transfers()
    genuine = Transfer.objects.filter(phase="posted").order_by("-id").first()
    with replica_role():
        forged = raw_insert(_forged_copy(genuine, "forged-replica", amount=genuine.amount + 1))
    assert forged_ids() == [forged]


# ------------------------------------------------------------------------------------------- edited rows


@pytest.mark.parametrize("sealed", [False, True])
@pytest.mark.parametrize(
    "change",
    [
        "amount = amount * 10",
        "credit_account_id = (SELECT id FROM ledger_account WHERE code = 'pool')",
        "memo = 'changed'",
        "created_at = created_at - INTERVAL '1 day'",
        "mark = '" + "0" * 64 + "'",
    ],
)
def test_an_edited_row_is_named_by_id(ledger, sealed, change):
    if connection.vendor != "postgresql" and "INTERVAL" in change:
        pytest.skip("PostgreSQL interval syntax")
    if sealed:
        seal_transfers()
    victim = Transfer.objects.filter(kind=Transfer.Kind.SERVICE_CREDIT, phase="posted").first()
    with triggers_off("ledger_transfer"):
        execute(f"UPDATE ledger_transfer SET {change} WHERE id = %s", [victim.pk])
    assert forged_ids() == [victim.pk]
    if sealed and not change.startswith("mark"):  # the seals hash the fields, not the mark (older seals hold)
        assert [t for t in problem_texts("row_edited") if f"#{victim.pk} " in t]
    elif not sealed:
        assert verify_ledger().unsealed == Transfer.objects.count()


def test_an_edit_that_swaps_two_rows_marks_is_named(ledger):
    one, two = Transfer.objects.filter(phase="posted").order_by("id")[:2]
    with triggers_off("ledger_transfer"):
        execute("UPDATE ledger_transfer SET mark = %s WHERE id = %s", [two.mark, one.pk])
        execute("UPDATE ledger_transfer SET mark = %s WHERE id = %s", [one.mark, two.pk])
    assert forged_ids() == [one.pk, two.pk]


def test_a_row_remarked_with_a_guessed_key_is_named(ledger):
    victim = Transfer.objects.filter(phase="posted").first()
    values = {n: getattr(victim, n) for n in marks.MARKED_FIELDS} | {"amount": victim.amount * 2}
    guessed = hmac.new(b"dev-only-secret-key", marks.mark_message(values), hashlib.sha256).hexdigest()
    with triggers_off("ledger_transfer"):
        execute(
            "UPDATE ledger_transfer SET amount = %s, mark = %s WHERE id = %s", [values["amount"], guessed, victim.pk]
        )
    assert forged_ids() == [victim.pk]


# ------------------------------------------------------------------------------------------- deleted rows


def test_a_row_deleted_after_sealing_is_named_by_the_seal(ledger):
    seal_transfers()
    victim = Transfer.objects.filter(kind=Transfer.Kind.SERVICE_CREDIT, phase="posted").first()
    with triggers_off("ledger_transfer"):
        execute("DELETE FROM ledger_transfer WHERE id = %s", [victim.pk])
    texts = problem_texts("row_missing")
    assert len(texts) == 1 and f"transfer #{victim.pk} was sealed" in texts[0]
    assert problem_texts("balance")  # the volunteer's cached balance still counts it


def test_a_row_deleted_before_sealing_is_named_by_the_cached_balances(ledger):
    victim = Transfer.objects.filter(kind=Transfer.Kind.SERVICE_CREDIT, phase="posted").first()
    account = Account.objects.get(pk=victim.credit_account_id)
    with triggers_off("ledger_transfer"):
        execute("DELETE FROM ledger_transfer WHERE id = %s", [victim.pk])
    texts = problem_texts("balance")
    assert len(texts) == 1 and f"account {account.code} " in texts[0]
    assert f"the cached balance counts {victim.amount} min more posted credits" in texts[0]


@pytest.mark.postgres
@pytest.mark.parametrize("sealed", [False, True])
def test_a_deleted_hold_or_original_is_named_by_id_through_the_rows_that_point_at_it(ledger, sealed):
    """With the foreign keys off too, a resolved hold or a reversed transfer can be deleted: the post or
    the reversal that points at it names it."""
    if sealed:
        seal_transfers()
    held, wrong = ledger["held"], ledger["wrong"]
    post = Transfer.objects.get(pending=held)
    reversal = Transfer.objects.get(reverses=wrong)
    with replica_role():
        execute("DELETE FROM ledger_transfer WHERE id IN (%s, %s)", [held.pk, wrong.pk])
    texts = problem_texts("row_missing")
    assert f"transfer #{held.pk} is gone: transfer #{post.pk} points at it as the hold it resolves" in texts
    assert f"transfer #{wrong.pk} is gone: transfer #{reversal.pk} points at it as the transfer it reverses" in texts
    assert forged_ids() == []  # the rows left are genuine


@pytest.mark.postgres
def test_the_migration_backfills_the_marks_of_existing_rows(ledger):
    """Migration ledger/0009 marks the rows written before marks existed, and leaves the triggers on."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("timebank.ledger.migrations.0009_transfer_mark")
    expected = dict(Transfer.objects.values_list("id", "mark"))
    execute("SET CONSTRAINTS ALL IMMEDIATE")
    execute("ALTER TABLE ledger_transfer DROP CONSTRAINT transfer_marked")  # as before the migration
    with triggers_off("ledger_transfer"):
        execute("UPDATE ledger_transfer SET mark = ''")
    with connection.schema_editor(atomic=False) as editor:
        migration.backfill(apps, editor)
    execute("SET CONSTRAINTS ALL DEFERRED")
    assert dict(Transfer.objects.values_list("id", "mark")) == expected
    assert verify_ledger().ok
    with pytest.raises(IntegrityError), transaction.atomic():  # the update-refusing trigger is back on
        execute("UPDATE ledger_transfer SET memo = 'x'")
