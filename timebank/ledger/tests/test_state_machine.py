"""Random sequences of ledger operations against a simple model of what every balance should be.

After every step: the sum over all accounts is zero, no personal account is below zero, every cached
balance equals the sum of its transfers (``verify_ledger``), and the residents' balances equal the model.
Refused requests must be refused with the expected error and write nothing; replays write nothing.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from timebank.common.errors import DomainError
from timebank.ledger import errors, selectors, services
from timebank.ledger.models import Account, Transfer
from timebank.ledger.sealing import seal_transfers, verify_ledger
from timebank.people.services import relationship_create

from .conftest import ledger_counts

MINUTES = st.sampled_from([15, 30, 60, 90, 120, 240])
_examples = itertools.count(1)

# people of one example: v0, v1 volunteers (spouses); e0 (65) is v0's parent and may redeem; p0 (85, alone) priority
PEOPLE = ["v0", "v1", "e0", "p0"]
RELATIVES = {("v0", "e0"), ("e0", "v0"), ("v0", "v1"), ("v1", "v0")}


def _sums(side: str, phases: tuple[str, ...]) -> dict[int, int]:
    rows = Transfer.objects.filter(phase__in=phases).values(side).annotate(s=Sum("amount")).values_list(side, "s")
    return dict(rows)


def global_invariants() -> None:
    """Checked after every step, over every account (cheap aggregates; the seals are checked per example)."""
    posted = ("posted", "post")
    d_posted, c_posted = _sums("debit_account", posted), _sums("credit_account", posted)
    cached = Account.objects.filter(cached=True).aggregate(c=Sum("credits_posted"), d=Sum("debits_posted"))
    derived_ids = list(Account.objects.filter(cached=False).values_list("pk", flat=True))
    derived = sum(c_posted.get(pk, 0) - d_posted.get(pk, 0) for pk in derived_ids)
    assert (cached["c"] or 0) - (cached["d"] or 0) + derived == 0, "hours were made or lost"
    overdrawn = Account.objects.filter(no_overdraw=True, credits_posted__lt=F("debits_posted") + F("debits_pending"))
    assert not overdrawn.exists(), list(overdrawn.values("code", "credits_posted", "debits_posted", "debits_pending"))
    # every cached balance equals the sum of its transfers (holds: pending minus the resolved ones)
    open_holds = Transfer.objects.filter(phase="pending", resolution__isnull=True)
    d_held = dict(open_holds.values("debit_account").annotate(s=Sum("amount")).values_list("debit_account", "s"))
    c_held = dict(open_holds.values("credit_account").annotate(s=Sum("amount")).values_list("credit_account", "s"))
    for a in Account.objects.filter(cached=True):
        expected = (d_posted.get(a.pk, 0), c_posted.get(a.pk, 0), d_held.get(a.pk, 0), c_held.get(a.pk, 0))
        assert (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending) == expected, a.code


@pytest.mark.django_db
def test_random_operations_keep_the_ledger_whole(make_resident, make_staff):
    staff = [make_staff(), make_staff(), make_staff()]

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            # Each example starts from the same database state (rolled back in teardown), so that
            # hypothesis can replay and shrink an example exactly.
            self._savepoint = transaction.savepoint()
            self.n = next(_examples)
            self.keys = itertools.count(1)
            self.r = {
                "v0": make_resident("甲志愿", 40),
                "v1": make_resident("乙志愿", 41),
                "e0": make_resident("丙长者", 65, roles=("elder",)),
                "p0": make_resident("丁孤老", 85, roles=("elder",), lives_alone=True),
            }
            relationship_create(actor=None, resident=self.r["v0"], relative=self.r["e0"], kind="parent")
            relationship_create(actor=None, resident=self.r["v0"], relative=self.r["v1"], kind="spouse")
            self.staff = staff
            self.acct = {name: services.account_for(res) for name, res in self.r.items()}
            self.acct["pool"] = services.system_account("pool")
            self.issuance = services.system_account("issuance")
            # the model: posted and held-out minutes per account name (the pool starts where it stands)
            self.posted: dict[str, int] = defaultdict(int)
            self.held_out: dict[str, int] = defaultdict(int)
            self.posted["pool"] = selectors.balance(self.acct["pool"]).posted
            self.held_out["pool"] = selectors.balance(self.acct["pool"]).held_out
            self.holds: list[tuple[Transfer, str | None, str, bool]] = []  # hold, payer, receiver, resolved
            self.reversible: list[tuple[Transfer, str | None, str | None, bool]] = []
            self.done: list[tuple[Callable[[], Any], Any]] = []  # (call, identity of its result)
            self.supervisor = staff[2]

        # ----------------------------------------------------------------------------- helpers

        def key(self) -> str:
            return f"state-machine-{self.n}-{next(self.keys)}"

        def available(self, name: str | None) -> float:
            return float("inf") if name is None else self.posted[name] - self.held_out[name]

        def name_of(self, account_id: int) -> str | None:
            for name, account in self.acct.items():
                if account.pk == account_id:
                    return name
            return None

        def attempt(self, call: Callable[[], Any], expected: type[DomainError] | None) -> Any:
            """Run a request; a refusal must be the expected one and write nothing."""
            before = ledger_counts()
            try:
                result = call()
            except DomainError as exc:
                assert expected is not None, f"unexpected refusal {exc}"
                assert type(exc) is expected, f"expected {expected.code}, got {exc}"
                assert ledger_counts() == before, "a refused request wrote something"
                return None
            assert expected is None, f"expected {expected.code}, but it went through"
            return result

        def move(self, debit: str | None, credit: str | None, minutes: int, transfer: Transfer | None) -> None:
            if debit is not None:
                self.posted[debit] -= minutes
            if credit is not None:
                self.posted[credit] += minutes
            if transfer is not None:
                self.reversible.append((transfer, debit, credit, False))

        @staticmethod
        def identity(result: Any) -> Any:
            if isinstance(result, services.Credit):
                return (
                    result.transfer.pk if result.transfer else None,
                    result.overflow.pk if result.overflow else None,
                )
            return result.pk

        def remember(self, call: Callable[[], Any], result: Any) -> None:
            self.done.append((call, self.identity(result)))

        # ----------------------------------------------------------------------------- rules

        @rule(volunteer=st.sampled_from(["v0", "v1"]), payer=st.sampled_from(["government", "pool", "own"]),
              minutes=MINUTES, hold=st.booleans())  # fmt: skip
        def service_credit(self, volunteer: str, payer: str, minutes: int, hold: bool) -> None:
            source = {"government": None, "pool": "pool", "own": "e0"}[payer]
            elder = self.r["e0"] if payer == "own" else self.r["p0"]
            key = self.key()

            def call() -> services.Credit:
                return services.service_credit(
                    key=key, volunteer=self.r[volunteer], payer=payer, elder=elder, minutes=minutes, hold=hold
                )

            expected = errors.InsufficientBalance if self.available(source) < minutes else None
            result = self.attempt(call, expected)
            if result is None:
                return
            self.remember(call, result)
            if hold:
                if source is not None:
                    self.held_out[source] += minutes
                self.holds.append((result.transfer, source, volunteer, False))
            else:
                assert result.to_volunteer == minutes and result.overflow is None
                self.move(source, volunteer, minutes, result.transfer)

        @rule(sender=st.sampled_from(PEOPLE), recipient=st.sampled_from(PEOPLE), minutes=MINUTES)
        def family_transfer(self, sender: str, recipient: str, minutes: int) -> None:
            key = self.key()

            def call() -> Transfer:
                return services.family_transfer(
                    key=key, sender=self.r[sender], recipient=self.r[recipient], minutes=minutes
                )

            if sender == recipient:
                expected: type[DomainError] | None = errors.SameAccount
            elif (sender, recipient) not in RELATIVES:
                expected = errors.NotARelative
            elif self.available(sender) < minutes:
                expected = errors.InsufficientBalance
            else:
                expected = None
            result = self.attempt(call, expected)
            if result is not None:
                self.remember(call, result)
                self.move(sender, recipient, minutes, result)

        @rule(donor=st.sampled_from(PEOPLE), minutes=MINUTES, to_priority=st.booleans())
        def donate(self, donor: str, minutes: int, to_priority: bool) -> None:
            key = self.key()
            target = "p0" if to_priority else "pool"

            def call() -> Transfer:
                return services.donate(
                    key=key, donor=self.r[donor], minutes=minutes, to_elder=self.r["p0"] if to_priority else None
                )

            if donor == target:
                expected: type[DomainError] | None = errors.SameAccount
            elif self.available(donor) < minutes:
                expected = errors.InsufficientBalance
            else:
                expected = None
            result = self.attempt(call, expected)
            if result is not None:
                self.remember(call, result)
                self.move(donor, target, minutes, result)

        @precondition(lambda self: self.holds)
        @rule(data=st.data(), action=st.sampled_from(["post", "partial", "void"]))
        def resolve_hold(self, data: st.DataObject, action: str) -> None:
            index = data.draw(st.integers(0, len(self.holds) - 1))
            pending, payer, receiver, resolved = self.holds[index]
            key = self.key()
            part = max(1, pending.amount // 2)

            def call() -> Any:
                if action == "void":
                    return services.hold_void(key=key, pending=pending)
                return services.hold_post(key=key, pending=pending, minutes=part if action == "partial" else None)

            result = self.attempt(call, errors.PendingResolved if resolved else None)
            if result is None:
                return
            self.remember(call, result)
            self.holds[index] = (pending, payer, receiver, True)
            if payer is not None:
                self.held_out[payer] -= pending.amount
            if action != "void":
                amount = part if action == "partial" else pending.amount
                self.move(payer, receiver, amount, result.transfer)

        @precondition(lambda self: self.reversible)
        @rule(data=st.data())
        def reverse(self, data: st.DataObject) -> None:
            index = data.draw(st.integers(0, len(self.reversible) - 1))
            original, debit, credit, reversed_ = self.reversible[index]
            key = self.key()

            def call() -> Transfer:
                return services.transfer_reverse(key=key, original=original, actor=self.supervisor, reason="mistake")

            if reversed_:
                expected: type[DomainError] | None = errors.AlreadyReversed
            elif self.available(credit) < original.amount:
                expected = errors.InsufficientBalance
            else:
                expected = None
            result = self.attempt(call, expected)
            if result is not None:
                self.remember(call, result)
                self.reversible[index] = (original, debit, credit, True)
                self.move(credit, debit, original.amount, result)

        @rule(lines=st.lists(st.tuples(st.sampled_from([None, *PEOPLE]), st.sampled_from(PEOPLE), MINUTES),
                             min_size=1, max_size=4))  # fmt: skip
        def batch(self, lines: list[tuple[str | None, str, int]]) -> None:
            lines = [(d, c, m) for d, c, m in lines if d != c]
            if not lines:
                return
            key = self.key()
            entries = [
                services.BatchEntry(
                    str(i), self.acct[d] if d else self.issuance, self.acct[c], m, Transfer.Kind.ADJUSTMENT
                )
                for i, (d, c, m) in enumerate(lines)
            ]

            def call() -> Any:
                return services.batch_post(key=key, entries=entries)

            trial = dict(self.posted)
            expected = None
            for d, c, m in lines:
                if d is not None:
                    if trial.get(d, 0) - self.held_out[d] < m:
                        expected = errors.InsufficientBalance
                        break
                    trial[d] = trial.get(d, 0) - m
                trial[c] = trial.get(c, 0) + m
            result = self.attempt(call, expected)
            if result is not None:
                self.remember(call, result)
                transfers = list(result.transfers.order_by("id"))
                assert len(transfers) == len(lines)
                for (d, c, m), t in zip(lines, transfers, strict=True):
                    self.move(d, c, m, t)

        @rule(minutes=MINUTES)
        def pool_grant(self, minutes: int) -> None:
            grant = services.pool_grant_request(actor=self.staff[0], elder=self.r["p0"], minutes=minutes, reason="help")
            expected = errors.InsufficientBalance if self.available("pool") < minutes else None
            result = self.attempt(lambda: services.pool_grant_approve(actor=self.staff[1], grant=grant), expected)
            if result is not None:
                self.move("pool", "p0", minutes, result.transfer)
                self.attempt(lambda: services.pool_grant_approve(actor=self.staff[1], grant=grant),
                             errors.GrantSameApprover)  # fmt: skip

        @precondition(lambda self: self.done)
        @rule(data=st.data())
        def replay(self, data: st.DataObject) -> None:
            call, identity = data.draw(st.sampled_from(self.done))
            before = ledger_counts()
            assert self.identity(call()) == identity
            assert ledger_counts() == before, "a replay wrote something"

        @rule(
            which=st.sampled_from(["minutes", "key", "reuse", "same"]), bad=st.sampled_from([0, -30, 1.5, "30", True])
        )
        def bad_request(self, which: str, bad: Any) -> None:
            v0, e0 = self.r["v0"], self.r["e0"]
            if which == "minutes":
                self.attempt(
                    lambda: services.family_transfer(key=self.key(), sender=v0, recipient=e0, minutes=bad),
                    errors.BadAmount,
                )
            elif which == "key":
                self.attempt(
                    lambda: services.family_transfer(key="bad key!", sender=v0, recipient=e0, minutes=30),
                    errors.BadKey,
                )
            elif which == "same":
                self.attempt(
                    lambda: services.family_transfer(key=self.key(), sender=v0, recipient=v0, minutes=30),
                    errors.SameAccount,
                )
            elif Transfer.objects.filter(key__startswith=f"state-machine-{self.n}-", batch__isnull=True).exists():
                used = (
                    Transfer.objects.filter(key__startswith=f"state-machine-{self.n}-", batch__isnull=True)
                    .order_by("id")
                    .first()
                )
                assert used is not None
                self.attempt(
                    lambda: services.transfer_post(
                        key=used.key,
                        debit=self.issuance,
                        credit=self.acct["v1"],
                        minutes=used.amount + 1,
                        kind=Transfer.Kind.ADJUSTMENT,
                    ),
                    errors.IdempotencyConflict,
                )

        @rule()
        def seal(self) -> None:
            seal_transfers(size=7)

        # ----------------------------------------------------------------------------- invariants

        @invariant()
        def ledger_is_whole(self) -> None:
            global_invariants()

        def teardown(self) -> None:
            # after each example: the whole verification with every seal, and the total through the selectors
            report = verify_ledger()
            assert report.ok, report.problems
            assert sum(selectors.balance(a).posted for a in Account.objects.all()) == 0
            transaction.savepoint_rollback(self._savepoint)

        @invariant()
        def balances_match_the_model(self) -> None:
            for name in [*PEOPLE, "pool"]:
                actual = selectors.balance(self.acct[name])
                assert (actual.posted, actual.held_out) == (self.posted[name], self.held_out[name]), name

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            database=None,
        ),
    )
