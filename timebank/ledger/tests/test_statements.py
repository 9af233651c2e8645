"""How many statements each ledger service sends on its normal path (issue 12): a posting ≤ 4, a balance
read ≤ 3, with BEGIN/COMMIT and savepoints counted; and the database's refusals told apart by constraint name.

The services run here as they do in a request: outside any transaction (the test database is not wrapped
in one), after a first call has filled the process's caches (system accounts, account ids, policies).
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from timebank.ledger import errors, selectors, services
from timebank.ledger.models import Account, Batch, Transfer
from timebank.ledger.services import core
from timebank.people.services import relationship_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

POSTING_MAX = 4
BALANCE_MAX = 3


def statements(call) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        call()
    return [q["sql"] for q in ctx.captured_queries]


def lean(sqls: list[str], limit: int) -> None:
    assert len(sqls) <= limit, "\n".join(sqls)
    assert not any("SAVEPOINT" in s for s in sqls), sqls
    # no SELECT by key before the INSERT, no separate lock SELECT: the guards are in the INSERT itself
    assert not any(s.lstrip().startswith("SELECT") and "FOR UPDATE" in s for s in sqls), sqls
    assert not any(s.lstrip().startswith("SELECT") and '"key" =' in s for s in sqls), sqls


@pytest.fixture
def people(make_resident, fund):
    li = make_resident("李华", 35)
    mother = make_resident("王秀英", 65, roles=("elder",))
    relationship_create(actor=None, resident=li, relative=mother, kind="parent")
    volunteer = make_resident("志愿者", 30)
    elder = make_resident("孤老", 88, roles=("elder",), lives_alone=True)
    fund(li, 6000)
    # warm the process's caches, as the first requests of a worker do
    services.family_transfer(key="warm-family", sender=li, recipient=mother, minutes=1)
    services.donate(key="warm-donate", donor=li, minutes=1)
    services.service_credit(key="warm-credit", volunteer=volunteer, payer="government", elder=elder, minutes=15)
    return li, mother, volunteer, elder


def test_a_posting_is_one_guarded_insert(people):
    li, mother, volunteer, elder = people
    debit, credit = services.account_for(li), services.account_for(mother)
    counts = {}
    sqls = statements(
        lambda: services.transfer_post(
            key="stmt-transfer", debit=debit, credit=credit, minutes=5, kind="family_transfer"
        )
    )
    lean(sqls, POSTING_MAX)
    counts["transfer_post"] = sqls
    sqls = statements(lambda: services.family_transfer(key="stmt-family", sender=li, recipient=mother, minutes=5))
    lean(sqls, POSTING_MAX)
    counts["family_transfer"] = sqls
    sqls = statements(lambda: services.donate(key="stmt-donate", donor=li, minutes=5))
    lean(sqls, POSTING_MAX)
    counts["donate"] = sqls
    sqls = statements(
        lambda: services.service_credit(
            key="stmt-credit", volunteer=volunteer, payer="government", elder=elder, minutes=30
        )
    )
    lean(sqls, POSTING_MAX)
    counts["service_credit"] = sqls
    # the INSERT is the only write, and it carries its own guards and lock
    for name, sqls in counts.items():
        [insert] = [s for s in sqls if s.lstrip().startswith(("WITH", "INSERT"))]
        assert "ON CONFLICT (key) DO NOTHING" in insert and "FOR UPDATE" in insert, name
    assert Transfer.objects.filter(key__startswith="stmt-").count() == 4


def test_holds_and_replays_are_lean_too(people):
    _li, _mother, volunteer, elder = people
    held = services.service_credit(
        key="stmt-hold", volunteer=volunteer, payer="government", elder=elder, minutes=30, hold=True
    ).transfer
    assert held is not None
    sqls = statements(lambda: services.hold_post(key="stmt-hold-post", pending=held))
    lean(sqls, POSTING_MAX)
    # a replay: the INSERT finds the key, then one read of the first transfer
    again = []
    sqls = statements(
        lambda: again.append(
            services.service_credit(
                key="stmt-hold", volunteer=volunteer, payer="government", elder=elder, minutes=30, hold=True
            )
        )
    )
    assert len(sqls) <= POSTING_MAX and again[0].replayed, sqls


def test_a_balance_read_is_one_statement(people):
    li, *_ = people
    sqls = statements(lambda: selectors.resident_balance(li))
    assert len(sqls) <= BALANCE_MAX, sqls


def test_database_refusals_are_told_apart_by_constraint_name(people):
    """Rows inserted past the services' guards: the database refuses them, and the refusal maps to the
    user's error by ``diag.constraint_name``."""
    li, mother, volunteer, elder = people
    held = services.service_credit(
        key="name-hold", volunteer=volunteer, payer="government", elder=elder, minutes=30, hold=True
    ).transfer
    assert held is not None
    services.hold_void(key="name-void", pending=held)
    issuance, target = core.accounts_by_id(held.debit_account_id, held.credit_account_id)
    base = core.Row("name-raw-1", "x", issuance, target, 30, "service_credit", "void", pending_id=held.pk)
    original = services.family_transfer(key="name-orig", sender=li, recipient=mother, minutes=10)
    debit, credit = core.accounts_by_id(original.debit_account_id, original.credit_account_id)
    cases = [
        (base, errors.PendingResolved),  # the hold is settled already (unique pending)
        (base.but(key="name-raw-2", pending_id=original.pk), errors.PendingResolved),  # not a hold (trigger)
        (core.Row("name-raw-3", "x", debit, credit, 10**6, "family_transfer"), errors.InsufficientBalance),
        (core.Row("name-raw-4", "x", credit, debit, 7, "reversal", reverses_id=original.pk), errors.AlreadyReversed),
    ]
    for row, error in cases:
        with pytest.raises(IntegrityError) as info, transaction.atomic():
            core.insert_transfers([row])
        assert isinstance(core.integrity_to_domain(info.value), error), (row.key, info.value)
    assert not Transfer.objects.filter(key__startswith="name-raw-").exists()
    assert Account.objects.get(pk=debit.pk).posted_balance == selectors.resident_balance(li).posted


def test_a_batch_whose_line_key_is_taken_is_refused_whole(people):
    """A batch's transfers are copied in one statement; a line key already used refuses the whole batch."""
    li, mother, volunteer, _elder = people
    debit, credit = services.account_for(li), services.account_for(mother)
    # a transfer under a batch line's key (no service makes one: written past the key check)
    core.insert_transfers([core.Row("taken-batch/2", "x", debit, credit, 1, "family_transfer")])
    issuance = services.system_account("issuance")
    target = services.account_for(volunteer)
    entries = [services.BatchEntry(str(n), issuance, target, 10, "group_credit") for n in (1, 2, 3)]
    before = (Transfer.objects.count(), selectors.resident_balance(volunteer))
    with pytest.raises(errors.IdempotencyConflict):
        services.batch_post(key="taken-batch", entries=entries)
    assert (Transfer.objects.count(), selectors.resident_balance(volunteer)) == before
    assert not Batch.objects.filter(key="taken-batch").exists()
    made = services.batch_post(key="fresh-batch", entries=entries)
    assert made.count == 3 and Transfer.objects.filter(batch=made).count() == 3
    assert selectors.resident_balance(volunteer).posted == before[1].posted + 30


def test_batch_rows_move_balances_whatever_path_wrote_them(people):
    """Rows of a batch are added to the cached balances by the statement trigger, also when written past
    the services; a batch row that is not a plain posting is refused by the database."""
    li, mother, _volunteer, _elder = people
    made = services.batch_post(
        key="raw-batch-1",
        entries=[services.BatchEntry("1", services.account_for(li), services.account_for(mother), 7, "donation")],
    )
    before_li, before_mother = selectors.resident_balance(li).posted, selectors.resident_balance(mother).posted
    debit, credit = core.accounts_by_id(services.account_for(li).pk, services.account_for(mother).pk)
    rows = [core.Row(f"raw-batch-1/x{n}", "x", debit, credit, 5, "donation", batch_id=made.pk) for n in range(3)]
    core.insert_transfers(rows)  # a multi-row INSERT, not the batch service's COPY
    assert selectors.resident_balance(li).posted == before_li - 15
    assert selectors.resident_balance(mother).posted == before_mother + 15
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        core.insert_transfers([rows[0].but(key="raw-batch-1/held", phase="pending")])
    assert info.value.__cause__.diag.constraint_name == "ledger_batch_rows_posted"
    assert selectors.resident_balance(li).posted == before_li - 15
