"""Idempotency keys: a client's keys live in the client's own namespace; the service says what was a replay.

A resident with a ledger token (or a tampered web form) must not be able to post under a key the system
will use later (``visit-<id>-credit``, ``pool-grant:<id>``, ``need-<id>-guarantee``, ``expire:…``): the
system's posting would then be taken for a replay and never paid.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from timebank.ledger import errors, services
from timebank.ledger.models import PoolGrant, Transfer
from timebank.people.models import User
from timebank.people.services import relationship_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def li(make_resident, fund):
    """李华 (35) with 10 h, her mother (65), and the login 李华 uses."""
    li = make_resident("李华", 35)
    mother = make_resident("王秀英", 65, roles=("elder",))
    relationship_create(actor=None, resident=li, relative=mother, kind="parent")
    fund(li, 600)
    user = User.objects.create(username=f"li-{li.pk}", resident=li)
    return li, mother, user


def test_a_client_key_equal_to_a_system_key_blocks_nothing(li, make_resident, make_staff):
    sender, mother, user = li
    volunteer = make_resident("志愿者", 30)
    priority = make_resident("孤老", 88, roles=("elder",), lives_alone=True)
    requester, approver = make_staff(), make_staff()
    services.donate(key="seed-the-pool", donor=sender, minutes=300)
    grant = services.pool_grant_request(actor=requester, elder=priority, minutes=30, reason="冬季帮扶")
    system_keys = ["visit-424242-credit", f"pool-grant:{grant.pk}", "need-424242-guarantee", "expire:1:2030-01-01"]
    taken = [
        services.family_transfer(key=k, sender=sender, recipient=mother, minutes=5, actor=user, client=user)
        for k in system_keys
    ]
    assert [t.key for t in taken] == [f"c:{user.pk}:{k}" for k in system_keys]
    assert not any(t.replayed for t in taken)

    # the system's postings under the same keys are paid, each by a transfer of its own
    credit = services.service_credit(
        key="visit-424242-credit", volunteer=volunteer, payer="government", elder=priority, minutes=60
    )
    assert credit.transfer is not None and credit.transfer.amount == 60 and not credit.replayed
    assert credit.transfer.pk not in {t.pk for t in taken}
    approved = services.pool_grant_approve(actor=approver, grant=grant)
    assert approved.status == PoolGrant.Status.APPROVED
    assert approved.transfer is not None and approved.transfer.kind == Transfer.Kind.POOL_GRANT
    assert Transfer.objects.get(key=f"pool-grant:{grant.pk}").amount == 30


def test_client_keys_are_per_caller(li, make_resident, fund):
    sender, mother, user = li
    other = make_resident("周朋友", 40)
    relationship_create(actor=None, resident=other, relative=mother, kind="child")
    fund(other, 600)
    other_user = User.objects.create(username=f"zhou-{other.pk}", resident=other)

    first = services.family_transfer(key="gift-0000001", sender=sender, recipient=mother, minutes=60, client=user)
    # another caller's same key is another request, not a replay and not a conflict
    theirs = services.family_transfer(key="gift-0000001", sender=other, recipient=mother, minutes=90, client=other_user)
    assert theirs.pk != first.pk and not theirs.replayed and theirs.amount == 90
    again = services.family_transfer(key="gift-0000001", sender=sender, recipient=mother, minutes=60, client=user)
    assert again.pk == first.pk and again.replayed and not first.replayed
    with pytest.raises(errors.IdempotencyConflict):
        services.family_transfer(key="gift-0000001", sender=sender, recipient=mother, minutes=30, client=user)
    # a system call with the bare key is yet another namespace
    bare = services.donate(key="gift-0000001", donor=sender, minutes=10)
    assert bare.key == "gift-0000001" and bare.pk not in (first.pk, theirs.pk)
    assert Transfer.objects.filter(key__endswith="gift-0000001").count() == 3


def test_a_client_key_is_checked_before_it_is_scoped(li):
    sender, mother, user = li
    with pytest.raises(errors.BadKey):
        services.family_transfer(key="short", sender=sender, recipient=mother, minutes=5, client=user)
    with pytest.raises(errors.BadKey):
        services.donate(key="x" * 81, donor=sender, minutes=5, client=user)


def test_replays_are_reported(li, make_resident):
    sender, _mother, user = li
    first = services.donate(key="donate-0000001", donor=sender, minutes=30, client=user)
    again = services.donate(key="donate-0000001", donor=sender, minutes=30, client=user)
    assert (first.replayed, again.replayed, again.pk) == (False, True, first.pk)
    volunteer = make_resident("志愿者", 30)
    elder = make_resident("孤老", 88, roles=("elder",), lives_alone=True)
    c1 = services.service_credit(key="svc-replay-1", volunteer=volunteer, payer="government", elder=elder, minutes=30)
    c2 = services.service_credit(key="svc-replay-1", volunteer=volunteer, payer="government", elder=elder, minutes=30)
    assert (c1.replayed, c2.replayed) == (False, True)
    assert c1.transfer is not None and c2.transfer is not None and c2.transfer.pk == c1.transfer.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_duplicates_exactly_one_is_new(li):
    """Eight threads send the same request with the same key at once: one is new, seven are replays."""
    sender, mother, user = li
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    results: list[tuple[int, bool]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def body() -> None:
        try:
            barrier.wait(timeout=60)
            t = services.family_transfer(
                key="storm-0000001", sender=sender, recipient=mother, minutes=45, actor=user, client=user
            )
            with lock:
                results.append((t.pk, t.replayed))
        except BaseException as exc:
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    assert len(results) == threads_n
    assert len({pk for pk, _r in results}) == 1
    assert sorted(r for _pk, r in results) == [False] + [True] * (threads_n - 1)
    assert Transfer.objects.filter(key=f"c:{user.pk}:storm-0000001").count() == 1
