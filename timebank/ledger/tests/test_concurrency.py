"""16 threads over a few hot accounts on PostgreSQL: nothing lost, nothing doubled, no deadlock left unhandled.

Every request is sent by several threads at once (the retries of an impatient client); family transfers
go both ways between the same relatives (the order that deadlocks when locks are not taken in key order);
several threads settle the same hold with different keys; two staff approve the same pool grants at once.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from timebank.ledger import errors, selectors, services
from timebank.ledger.models import Account, PoolGrant, Transfer
from timebank.ledger.sealing import seal_transfers, verify_ledger
from timebank.people.services import relationship_create

THREADS = 16
COPIES = 4  # each request is sent by this many threads


def run_threads(work: Callable[[int], list[tuple[str, Any]]]) -> list[tuple[str, Any]]:
    """Run ``work(i)`` in 16 threads started together; return every outcome; fail on any unexpected error."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[tuple[str, Any]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            result = work(i)
            with lock:
                outcomes.extend(result)
        except BaseException as exc:
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not failures, failures
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sixteen_threads_lose_and_double_nothing(make_resident, make_staff, fund):
    volunteers = [make_resident(f"志愿{i}", 30 + i) for i in range(3)]
    relatives = [make_resident(f"亲属{i}", 40 + i) for i in range(3)]
    relationship_create(actor=None, resident=relatives[0], relative=relatives[1], kind="spouse")
    relationship_create(actor=None, resident=relatives[0], relative=relatives[2], kind="child")
    relationship_create(actor=None, resident=relatives[1], relative=relatives[2], kind="child")
    for r in relatives:
        fund(r, 600)
    elder = make_resident("老寿星", 70, roles=("elder",))
    fund(elder, 3000)
    priority = make_resident("孤老", 88, roles=("elder",), lives_alone=True)
    donor = make_resident("捐赠者", 50)
    fund(donor, 6000)
    services.donate(key="conc-seed-pool", donor=donor, minutes=6000)
    requester, approver_a, approver_b = make_staff(), make_staff(), make_staff()
    # the holds several threads will settle at once (the volunteers' accounts are opened here, by the holds)
    holds = [
        services.service_credit(
            key=f"conc-hold-{h}", volunteer=volunteers[h % 3], payer="own", elder=elder, minutes=60, hold=True
        ).transfer
        for h in range(8)
    ]
    grants = [
        services.pool_grant_request(actor=requester, elder=priority, minutes=30, reason="冬季帮扶") for _ in range(6)
    ]
    pool = services.system_account("pool")
    pool_before = selectors.balance(pool).posted
    transfers_before = Transfer.objects.count()

    credits = [(f"conc-credit-{j}", j % 3, "pool" if j % 2 else "government", 30 + 15 * (j % 3)) for j in range(24)]
    family = [
        (f"conc-family-{j}", j % 3, (j + 1 + j // 3 % 2) % 3, 15 + 5 * (j % 4))  # both directions of every pair
        for j in range(24)
    ]
    family = [f for f in family if f[1] != f[2]]

    def work(i: int) -> list[tuple[str, Any]]:
        rng = random.Random(i)
        tasks: list[Callable[[], tuple[str, Any]]] = []
        for n, (key, v, payer, minutes) in enumerate(credits):
            if n % THREADS // COPIES == i % (THREADS // COPIES) or (n + i) % COPIES == 0:
                tasks.append(
                    lambda key=key, v=v, payer=payer, minutes=minutes: (
                        "credit",
                        (
                            key,
                            services.service_credit(
                                key=key,
                                volunteer=volunteers[v],
                                payer=payer,
                                elder=priority,
                                minutes=minutes,
                            ).transfer.pk,
                        ),
                    )
                )
        for n, (key, a, b, minutes) in enumerate(family):
            if (n + i) % COPIES == 0:
                tasks.append(
                    lambda key=key, a=a, b=b, minutes=minutes: (
                        "family",
                        (
                            key,
                            services.family_transfer(
                                key=key, sender=relatives[a], recipient=relatives[b], minutes=minutes
                            ).pk,
                        ),
                    )
                )
        for h, hold in enumerate(holds):
            if (h + i) % 2 == 0:
                tasks.append(lambda h=h, hold=hold: settle(h, hold, i))
        for g, grant in enumerate(grants):
            if (g + i) % 3 == 0:
                tasks.append(lambda g=g, grant=grant: approve(g, grant, i))
        rng.shuffle(tasks)
        return [task() for task in tasks]

    def settle(h: int, hold: Transfer, i: int) -> tuple[str, Any]:
        try:
            if i % 2:
                result = services.hold_post(key=f"conc-settle-{h}-{i}", pending=hold)
                return "settled", (h, "post", result.transfer.pk)
            return "settled", (h, "void", services.hold_void(key=f"conc-settle-{h}-{i}", pending=hold).pk)
        except errors.PendingResolved:
            return "already", h

    def approve(g: int, grant: PoolGrant, i: int) -> tuple[str, Any]:
        approver = approver_a if i % 2 else approver_b
        try:
            return "approved", (g, services.pool_grant_approve(actor=approver, grant=grant).transfer_id)
        except (errors.GrantDecided, errors.GrantSameApprover):
            return "decided", g

    outcomes = run_threads(work)
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for kind, value in outcomes:
        by_kind[kind].append(value)

    # every request was sent by several threads, and every thread got the one and only result
    for kind, requests in (("credit", credits), ("family", family)):
        answers: dict[str, set[int]] = defaultdict(set)
        for key, pk in by_kind[kind]:
            answers[key].add(pk)
        assert set(answers) == {r[0] for r in requests}
        assert all(len(pks) == 1 for pks in answers.values()), answers
        assert Counter(key for key, _pk in by_kind[kind]).most_common()[-1][1] >= 2  # really sent twice or more
        for key, pks in answers.items():
            assert list(Transfer.objects.filter(key=key).values_list("pk", flat=True)) == list(pks)

    # every hold settled exactly once; the other threads were told it was already settled
    settled = {h: (action, pk) for h, action, pk in by_kind["settled"]}
    assert len(by_kind["settled"]) == len(holds) == len(settled)
    assert Counter(by_kind["already"]) == Counter(h for h in range(len(holds)) for i in range(THREADS // 2)) - Counter(
        settled.keys()
    )
    for h, hold in enumerate(holds):
        assert Transfer.objects.filter(pending=hold).count() == 1

    # every grant paid exactly once
    approved = dict(by_kind["approved"])
    assert sorted(approved) == list(range(len(grants)))
    assert len(by_kind["approved"]) == len(grants)
    for g, grant in enumerate(grants):
        grant.refresh_from_db()
        assert grant.status == PoolGrant.Status.APPROVED and grant.transfer_id == approved[g]
        assert grant.approved_by_id in (approver_a.pk, approver_b.pk)

    # exact balances
    expected: Counter[int] = Counter()
    for _key, v, _payer, minutes in credits:
        expected[volunteers[v].pk] += minutes
    for h, hold in enumerate(holds):
        if settled[h][0] == "post":
            expected[volunteers[h % 3].pk] += hold.amount
    for v in volunteers:
        assert selectors.resident_balance(v) == selectors.Balance(expected[v.pk], 0, 0), v.name
    family_net: Counter[int] = Counter({r.pk: 600 for r in relatives})
    for _key, a, b, minutes in family:
        family_net[relatives[a].pk] -= minutes
        family_net[relatives[b].pk] += minutes
    for r in relatives:
        assert selectors.resident_balance(r) == selectors.Balance(family_net[r.pk], 0, 0), r.name
    posted_holds = sum(hold.amount for h, hold in enumerate(holds) if settled[h][0] == "post")
    assert selectors.resident_balance(elder) == selectors.Balance(3000 - posted_holds, 0, 0)
    pool_paid = sum(minutes for _k, _v, payer, minutes in credits if payer == "pool")
    assert selectors.balance(pool).posted == pool_before - pool_paid - 30 * len(grants)
    assert selectors.resident_balance(priority).posted == 30 * len(grants)
    assert Transfer.objects.count() - transfers_before == len(credits) + len(family) + len(holds) + len(grants)

    seal_transfers()
    report = verify_ledger()
    assert report.ok, report.problems
    assert Account.objects.filter(resident__in=relatives).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_same_new_accounts_opened_from_both_sides_at_once(make_resident, fund, supervisor):
    """Relatives with no accounts yet send each other hours at the same moment: both accounts are opened
    inside the requests' transactions, in a fixed order, so neither waits on the other in a cycle."""
    pairs = []
    for n in range(THREADS // 2):
        a, b = make_resident(f"甲{n}", 40), make_resident(f"乙{n}", 40)
        relationship_create(actor=None, resident=a, relative=b, kind="spouse")
        pairs.append((a, b))

    def work(i: int) -> list[tuple[str, Any]]:
        a, b = pairs[i // 2]
        sender, recipient = (a, b) if i % 2 else (b, a)
        try:
            services.family_transfer(key=f"new-acct-{i}", sender=sender, recipient=recipient, minutes=30)
        except errors.InsufficientBalance:
            return [("refused", i)]
        return [("sent", i)]

    outcomes = run_threads(work)
    assert sorted(i for _kind, i in outcomes) == list(range(THREADS))
    assert all(kind == "refused" for kind, _i in outcomes)
    assert not Account.objects.filter(resident__in=[r for pair in pairs for r in pair]).exists()
    # and with hours: each pair swaps 30 minutes both ways at once
    for a, b in pairs:
        fund(a, 60)
        fund(b, 60)

    def swap(i: int) -> list[tuple[str, Any]]:
        a, b = pairs[i // 2]
        sender, recipient = (a, b) if i % 2 else (b, a)
        services.family_transfer(key=f"swap-pair-{i}", sender=sender, recipient=recipient, minutes=30)
        return [("sent", i)]

    assert len(run_threads(swap)) == THREADS
    for a, b in pairs:
        assert selectors.resident_balance(a).posted == selectors.resident_balance(b).posted == 60
    assert verify_ledger().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_credits_racing_past_the_cap_lock_the_pool_and_overflow_exactly(make_resident):
    """Credits below the cap do not lock the pool; when racing credits push a volunteer past the cap, the
    ones that find no room retry with the pool locked and send exactly the excess there."""
    from django.utils import timezone

    from timebank.common.services import policy_set

    policy_set(
        actor=None, key="ledger.balance_cap_minutes", value=600, effective_from=timezone.localdate(), allow_past=True
    )
    volunteer = make_resident("赶上限", 40)
    services.service_credit(key="cap-race-seed", volunteer=volunteer, payer="government", elder=None, minutes=360)
    pool = services.system_account("pool")
    pool_before = selectors.balance(pool).posted

    def work(i: int) -> list[tuple[str, Any]]:
        # each unlocked look sees 360 + 60 <= 600: none of them locks the pool at first
        credit = services.service_credit(
            key=f"cap-race-{i:02d}", volunteer=volunteer, payer="government", elder=None, minutes=60
        )
        return [("ok", (credit.to_volunteer, credit.overflow.amount if credit.overflow else 0))]

    outcomes = run_threads(work)
    paid = sum(v for _, (v, _o) in outcomes)
    overflow = sum(o for _, (_v, o) in outcomes)
    assert paid == 240 and overflow == THREADS * 60 - 240
    assert selectors.resident_balance(volunteer).posted == 600
    assert selectors.balance(pool).posted - pool_before == overflow
    assert verify_ledger().ok
