"""Real concurrency on PostgreSQL: many people take the last seat of a session at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from timebank.people.models import Resident, User
from timebank.training import errors, services
from timebank.training.models import Enrolment, Session

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


@pytest.mark.parametrize("wait", [False, True], ids=["seat-only", "or-wait"])
def test_many_take_the_last_seat_and_exactly_one_gets_it(make_session, trainees, social_worker, wait):
    session = make_session(capacity=2)
    services.enrolment_create(actor=social_worker, session=session, resident=trainees[0])
    takers = trainees[1:]

    def take(resident: Resident) -> Callable[[], Enrolment]:
        def call() -> Enrolment:
            actor = User.objects.get(pk=social_worker.pk)
            return services.enrolment_create(
                actor=actor, session=Session.objects.get(pk=session.pk), resident=resident, wait=wait
            )

        return call

    results = race([take(r) for r in takers])
    enrolled = [r for r in results if isinstance(r, Enrolment) and r.status == "enrolled"]
    assert len(enrolled) == 1, results
    if wait:
        assert sorted(r.status for r in results) == ["enrolled"] + ["waiting"] * (len(takers) - 1)
    else:
        assert all(isinstance(r, errors.SessionFull) for r in results if not isinstance(r, Enrolment)), results
    session.refresh_from_db()
    assert session.enrolled_count == 2 == Enrolment.objects.filter(session=session, status="enrolled").count()
