"""Real concurrency on PostgreSQL: many people pressing one button at the same moment.

Each thread has its own database connection (Django opens one per thread) and closes it at the end; a
barrier lines the threads up so that their transactions overlap. The tests flush the database, so they
ask for the migrated rows (towns, policies, catalogue, system accounts) back with serialized_rollback.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from timebank.care import errors, services
from timebank.care.models import CareEvent, Dispute, Need, Visit
from timebank.ledger import selectors as ledger_selectors
from timebank.ledger.models import Transfer
from timebank.people.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once, one thread each; return each one's result or the exception it raised."""
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
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return results


def test_many_confirmations_at_once_post_one_transfer(world, checked_out):
    visit = checked_out(minutes=75)
    confirmers = [world.son.pk, world.worker.pk]

    def confirm(i: int) -> Callable[[], Visit]:
        def call() -> Visit:
            actor = User.objects.get(pk=confirmers[i % 2])
            return services.visit_confirm(actor=actor, visit=Visit.objects.get(pk=visit.pk))

        return call

    results = race([confirm(i) for i in range(12)])
    assert not [r for r in results if isinstance(r, Exception)], results
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CONFIRMED and visit.credited_minutes == 90
    [transfer] = Transfer.objects.filter(ref=f"visit:{visit.pk}")
    assert visit.transfer_id == transfer.pk and transfer.amount == 90
    assert {r.transfer_id for r in results} == {transfer.pk}
    assert CareEvent.objects.filter(visit=visit, to_status="confirmed").count() == 1
    assert CareEvent.objects.filter(need=visit.need, to_status="done").count() == 1
    assert ledger_selectors.resident_balance(world.vol.resident).posted == 90


def test_one_volunteer_dispatched_to_two_overlapping_needs_at_once(world, publish):
    first = publish()
    second = publish(start=world.start + dt.timedelta(hours=1))

    def assign(need: Need) -> Callable[[], Visit]:
        return lambda: services.visit_assign(
            actor=User.objects.get(pk=world.worker.pk), need=Need.objects.get(pk=need.pk), volunteer=world.vol.resident
        )

    results = race([assign(first), assign(second)])
    won = [r for r in results if isinstance(r, Visit)]
    lost = [r for r in results if not isinstance(r, Visit)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], errors.DoubleBooked)
    assert Visit.objects.filter(volunteer=world.vol.resident).count() == 1
    assert Need.objects.filter(status=Need.Status.ASSIGNED).count() == 1


def test_many_dispatchers_race_for_two_overlapping_needs(world, publish):
    needs = [publish(), publish(start=world.start + dt.timedelta(hours=1))]

    def assign(i: int) -> Callable[[], Visit]:
        return lambda: services.visit_assign(
            actor=User.objects.get(pk=world.worker.pk),
            need=Need.objects.get(pk=needs[i % 2].pk),
            volunteer=world.vol.resident,
        )

    results = race([assign(i) for i in range(8)])
    assert sum(isinstance(r, Visit) for r in results) == 1, results
    assert all(
        isinstance(r, errors.DoubleBooked | errors.IllegalTransition) for r in results if not isinstance(r, Visit)
    )
    assert Visit.objects.count() == 1


def test_two_decisions_on_one_dispute_at_once(world, checked_out, town_admin):
    visit = checked_out(minutes=60)
    dispute = services.visit_dispute(actor=world.son, visit=visit, complaint="没做完")
    deciders = [(world.worker.pk, "void"), (town_admin.pk, "post")] * 4

    def resolve(user_pk: int, outcome: str) -> Callable[[], Dispute]:
        return lambda: services.dispute_resolve(
            actor=User.objects.get(pk=user_pk),
            dispute=Dispute.objects.get(pk=dispute.pk),
            outcome=outcome,
            reason="核实",
        )

    results = race([resolve(*d) for d in deciders])
    assert sum(isinstance(r, Dispute) for r in results) == 1, results
    assert all(isinstance(r, errors.IllegalTransition) for r in results if not isinstance(r, Dispute))
    dispute.refresh_from_db()
    visit.refresh_from_db()
    paid = Transfer.objects.filter(ref=f"visit:{visit.pk}", phase="post").count()
    assert (dispute.outcome, visit.status, paid) in {("void", "voided", 0), ("post", "confirmed", 1)}


def test_wrong_codes_typed_at_once_all_count(world, assigned):
    card = services.card_issue(actor=world.worker, elder=world.elder)
    wrong = "000000" if card.pin != "000000" else "111111"
    visit = assigned()

    def attempt() -> Visit:
        return services.visit_check_in(
            actor=User.objects.get(pk=world.vol.pk), visit=Visit.objects.get(pk=visit.pk), code=wrong, at=world.start
        )

    results = race([attempt for _ in range(4)])
    assert all(isinstance(r, errors.WrongCode) for r in results), results
    visit.refresh_from_db()
    assert visit.code_failures == 4
