"""Two social workers accept proposals that share a volunteer at the same moment (PostgreSQL, threads):
care.visit_assign locks the volunteer, so exactly one visit is booked and the other row is refused."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from timebank.care.models import Visit
from timebank.matching import services
from timebank.matching.models import DispatchProposal, ProposalRow

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def race(calls: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = calls[i]()
        except Exception as exc:  # the test inspects what each thread met
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.parametrize("same_need", [False, True])
def test_two_proposals_accepted_at_once_never_double_book(world, volunteer, need_at, tomorrow_at, community, same_need):
    v = volunteer(north_m=200)
    n1 = need_at(hour=9)
    day = tomorrow_at().date()
    first = services.proposal_create(actor=world.worker, region=community, day=day)
    if not same_need:
        need_at(hour=10, item="grocery")  # overlaps n1; only v can take either
    second = services.proposal_create(actor=world.worker, region=community, day=day)
    proposed = ProposalRow.objects.filter(proposal__in=[first, second], volunteer=v).count()
    assert proposed == 2  # one row in each proposal (the two needs overlap, so v takes only one of them)

    def accept(p: DispatchProposal) -> Any:
        return lambda: services.proposal_accept(actor=world.worker, proposal=DispatchProposal.objects.get(pk=p.pk))

    results = race([accept(first), accept(second)])
    assert not any(isinstance(r, Exception) for r in results), results
    live = Visit.objects.filter(volunteer=v, status=Visit.Status.ASSIGNED)
    assert live.count() == 1
    assert sum(len(r.assigned) for r in results) == 1
    refused = [row for r in results for row in r.refused]
    assert len(refused) >= 1
    assert {row.refusal_code for row in refused} <= {"care.double_booked", "care.illegal_transition"}
    assert Visit.objects.filter(need=n1).exclude(status=Visit.Status.CANCELLED).count() <= 1
