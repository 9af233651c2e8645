"""Two leaders submit the same attendance sheet at the same moment (PostgreSQL, real threads): one batch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from timebank.ledger.models import Batch, Transfer
from timebank.ledger.selectors import group_balance
from timebank.teams import services
from timebank.teams.models import EventSheet, GroupEvent

from .conftest import join

THREADS = 4


def run_together(work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(THREADS)
    results: list[Any] = []
    lock = threading.Lock()

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcome: Any = work(i)
        except Exception as exc:  # every outcome is checked by the test
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_same_sheet_from_four_threads_posts_one_batch(past_event: GroupEvent, leader_user, volunteer):
    people = [volunteer() for _ in range(3)]
    for person in people:
        join(leader_user, past_event, person)
    rows = [services.SheetRow(resident=p, minutes=60 + 30 * i) for i, p in enumerate(people)]
    results = run_together(lambda i: services.event_sheet_submit(actor=leader_user, event=past_event, rows=rows))
    assert all(isinstance(r, EventSheet) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Batch.objects.count() == 1 and EventSheet.objects.count() == 1
    assert Transfer.objects.filter(batch__isnull=False).count() == 3
    assert [group_balance(p).available for p in people] == [60, 90, 120]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_different_sheets_at_once_one_wins(past_event: GroupEvent, leader_user, volunteer):
    GroupEvent.objects.filter(pk=past_event.pk).update(capacity=THREADS)
    past_event.refresh_from_db()
    people = [volunteer() for _ in range(THREADS)]
    for person in people:
        join(leader_user, past_event, person)
    results = run_together(
        lambda i: services.event_sheet_submit(
            actor=leader_user, event=past_event, rows=[services.SheetRow(resident=people[i], minutes=60)]
        )
    )
    posted = [r for r in results if isinstance(r, EventSheet)]
    refused = [r for r in results if not isinstance(r, EventSheet)]
    assert len(posted) == 1
    assert [getattr(r, "code", r) for r in refused] == ["teams.sheet_already_posted"] * (THREADS - 1)
    assert Batch.objects.count() == 1 and Transfer.objects.filter(batch__isnull=False).count() == 1
