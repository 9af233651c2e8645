"""The database itself refuses what the ledger forbids, even to raw SQL that bypasses the services.

These run on PostgreSQL and on SQLite (both have the CHECK constraints and the triggers of ``sql/*.sql``).
Every refused statement runs in its own ``transaction.atomic()`` so the test can go on.
"""

from __future__ import annotations

import itertools

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from timebank.ledger import services
from timebank.ledger.marks import transfer_mark
from timebank.ledger.models import Account, Seal, Transfer
from timebank.ledger.sealing import seal_transfers, verify_ledger

pytestmark = pytest.mark.django_db

_keys = itertools.count(1)


def insert(debit: int, credit: int, amount: int, *, phase="posted", pending=None, reverses=None, kind="adjustment"):
    """INSERT a transfer row directly (with a genuine mark, so only the constraints and triggers judge it)."""
    key = f"raw-sql-{next(_keys)}"
    values = {
        "key": key,
        "request_hash": "raw",
        "debit_account_id": debit,
        "credit_account_id": credit,
        "amount": amount,
        "kind": kind,
        "phase": phase,
        "pending_id": pending,
        "reverses_id": reverses,
        "batch_id": None,
        "memo": "",
        "beneficiary_id": None,
        "place_id": None,
        "ref": "",
        "actor_id": None,
        "created_at": timezone.now(),
    }
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger_transfer (key, request_hash, debit_account_id, credit_account_id, amount, kind, phase,"
            " pending_id, reverses_id, batch_id, memo, place_id, ref, actor_id, created_at, mark)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, '', NULL, '', NULL, %s, %s)",
            [
                key,
                "raw",
                debit,
                credit,
                amount,
                kind,
                phase,
                pending,
                reverses,
                connection.ops.adapt_datetimefield_value(values["created_at"]),
                transfer_mark(values),
            ],
        )
    return Transfer.objects.get(key=key).pk


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])


def refused(sql_call, *args, **kwargs) -> None:
    """The statement fails (IntegrityError for constraints and for the triggers' refusals) and writes nothing."""
    transfers, seals = Transfer.objects.count(), Seal.objects.count()
    balances = list(Account.objects.order_by("pk").values_list("debits_posted", "credits_posted", "debits_pending"))
    with pytest.raises(IntegrityError), transaction.atomic():
        sql_call(*args, **kwargs)
    assert Transfer.objects.count() == transfers and Seal.objects.count() == seals
    assert list(Account.objects.order_by("pk").values_list("debits_posted", "credits_posted", "debits_pending")) == (
        balances
    )


@pytest.fixture
def accounts(make_resident, fund):
    """Two personal accounts: ``a`` holds 5 h, ``b`` holds nothing; and the issuance account."""
    a, b = make_resident("甲", 40), make_resident("乙", 40)
    fund(a, 300)
    return services.account_for(a).pk, services.account_for(b).pk, services.system_account("issuance").pk


def cached(pk: int) -> tuple[int, int, int, int]:
    account = Account.objects.get(pk=pk)
    return account.debits_posted, account.credits_posted, account.debits_pending, account.credits_pending


def test_a_valid_raw_insert_is_accepted_and_updates_the_cached_balances(accounts):
    """The control case: the refusals below are not just any INSERT failing."""
    a, b, issuance = accounts
    insert(a, b, 120)
    assert cached(a) == (120, 300, 0, 0)
    assert cached(b) == (0, 120, 0, 0)
    held = insert(a, b, 60, phase="pending")
    assert cached(a) == (120, 300, 60, 0) and cached(b) == (0, 120, 0, 60)
    insert(a, b, 45, phase="post", pending=held)
    assert cached(a) == (165, 300, 0, 0) and cached(b) == (0, 165, 0, 0)
    insert(issuance, b, 30)  # a derived account has no cached balance to update
    assert cached(issuance) == (0, 0, 0, 0)
    assert verify_ledger().ok


def test_negative_personal_balance_refused(accounts):
    a, _b, _issuance = accounts
    refused(execute, "UPDATE ledger_account SET debits_posted = credits_posted + 1 WHERE id = %s", [a])
    refused(execute, "UPDATE ledger_account SET debits_pending = credits_posted + 1 WHERE id = %s", [a])
    refused(execute, "UPDATE ledger_account SET credits_posted = -1, debits_posted = -2 WHERE id = %s", [a])
    # and through a transfer: the insert trigger's balance update hits the same CHECK
    refused(insert, a, _b, 301)
    refused(insert, a, _b, 301, phase="pending")


def test_the_pool_cannot_be_overdrawn(accounts):
    _a, b, _issuance = accounts
    pool = services.system_account("pool").pk
    refused(insert, pool, b, 1)


def test_zero_or_negative_amount_refused(accounts):
    a, b, _issuance = accounts
    refused(insert, a, b, 0)
    refused(insert, a, b, -5)
    refused(insert, b, a, -300)  # would move hours the wrong way round


def test_self_transfer_refused(accounts):
    a, _b, issuance = accounts
    refused(insert, a, a, 10)
    refused(insert, issuance, issuance, 10)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_transfer SET amount = amount + 60 WHERE id = %s",
        "UPDATE ledger_transfer SET memo = 'edited' WHERE id = %s",
        "DELETE FROM ledger_transfer WHERE id = %s",
    ],
)
def test_transfers_cannot_be_updated_or_deleted(accounts, sql):
    a, b, _issuance = accounts
    tid = insert(a, b, 60)
    refused(execute, sql, [tid])
    assert Transfer.objects.get(pk=tid).amount == 60 and Transfer.objects.get(pk=tid).memo == ""


def test_update_of_all_transfers_refused(accounts):
    refused(execute, "UPDATE ledger_transfer SET amount = 1")
    refused(execute, "DELETE FROM ledger_transfer")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_seal SET hash = 'x' WHERE id = %s",
        "UPDATE ledger_seal SET entries = '[]' WHERE id = %s",
        "DELETE FROM ledger_seal WHERE id = %s",
    ],
)
def test_seals_cannot_be_updated_or_deleted(accounts, sql):
    (seal,) = seal_transfers()
    refused(execute, sql, [seal.pk])
    assert Seal.objects.get(pk=seal.pk).hash == seal.hash
    assert verify_ledger().ok


def test_a_pending_transfer_is_resolved_once(accounts):
    a, b, _issuance = accounts
    held = insert(a, b, 60, phase="pending")
    insert(a, b, 60, phase="void", pending=held)
    refused(insert, a, b, 60, phase="void", pending=held)
    refused(insert, a, b, 30, phase="post", pending=held)
    assert cached(a) == (0, 300, 0, 0)


def test_resolutions_must_match_their_hold(accounts, make_resident):
    a, b, issuance = accounts
    c = services.account_for(make_resident("丙", 40)).pk
    held = insert(a, b, 60, phase="pending")
    refused(insert, a, b, 61, phase="post", pending=held)  # more than held
    refused(insert, a, b, 30, phase="void", pending=held)  # a void returns all of it
    refused(insert, a, c, 60, phase="post", pending=held)  # another receiver
    refused(insert, b, a, 60, phase="post", pending=held)  # the wrong way round
    refused(insert, a, b, 60, phase="post")  # names no hold
    refused(insert, a, b, 60, phase="pending", pending=held)  # a hold cannot resolve a hold
    posted = insert(a, b, 30)
    refused(insert, a, b, 30, phase="post", pending=posted)  # resolves something that is not a hold
    refused(insert, a, b, 30, phase="bogus")
    insert(a, b, 60, phase="post", pending=held)  # and the right one still works
    assert cached(b) == (0, 90, 0, 0)
    assert issuance  # the issuance account took no part


def test_reversal_must_mirror_its_original(accounts):
    a, b, _issuance = accounts
    original = insert(a, b, 60)
    refused(insert, a, b, 60, reverses=original)  # same direction
    refused(insert, b, a, 30, reverses=original)  # another amount
    refused(insert, b, a, 60, reverses=original, phase="pending")  # a reversal is posted at once
    held = insert(a, b, 30, phase="pending")
    refused(insert, b, a, 30, reverses=held)  # a hold is voided, not reversed
    insert(b, a, 60, reverses=original)
    refused(insert, b, a, 60, reverses=original)  # a second reversal
    assert cached(a) == (60, 360, 30, 0)


def test_counters_cannot_go_negative(accounts):
    _a, b, _issuance = accounts
    refused(execute, "UPDATE ledger_account SET credits_pending = -1 WHERE id = %s", [b])


def test_a_derived_account_cannot_be_overdraw_protected(accounts):
    _a, _b, issuance = accounts
    refused(execute, "UPDATE ledger_account SET no_overdraw = %s WHERE id = %s", [True, issuance])


def test_a_personal_account_needs_an_owner_and_overdraft_protection(accounts):
    a, _b, _issuance = accounts
    refused(execute, "UPDATE ledger_account SET no_overdraw = %s WHERE id = %s", [False, a])
    refused(execute, "UPDATE ledger_account SET resident_id = NULL WHERE id = %s", [a])


def test_refusals_are_database_errors_not_silent(accounts):
    """A refused UPDATE leaves an error the caller sees: it is not a silent no-op (e.g. a rule)."""
    a, b, _issuance = accounts
    tid = insert(a, b, 60)
    with pytest.raises(DatabaseError) as info, transaction.atomic():
        execute("UPDATE ledger_transfer SET amount = 1 WHERE id = %s", [tid])
    assert "append-only" in str(info.value)
