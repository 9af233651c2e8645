"""The state machine of needs and visits, driven through the public services only.

For every visit status, every action that is not a move out of it is refused with IllegalTransition and
writes nothing, whether the caller holds a fresh copy of the visit or an outdated one. Every move writes
exactly one CareEvent naming the statuses on both sides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from timebank.care import errors, services
from timebank.care.models import CareEvent, Dispute, Need, Visit
from timebank.care.services import NEED_MOVES, VISIT_MOVES

from .conftest import care_counts

pytestmark = pytest.mark.django_db

VS = Visit.Status
NS = Need.Status


def test_the_tables_cover_every_status():
    assert set(VISIT_MOVES) == set(VS.values)
    assert set(NEED_MOVES) == set(NS.values)
    assert all(to in VS.values for moves in VISIT_MOVES.values() for to in moves)
    assert not VISIT_MOVES[VS.CANCELLED] and not VISIT_MOVES[VS.NO_SHOW] and not VISIT_MOVES[VS.RATED]


@pytest.fixture
def visit_in(world, assigned, checked_out) -> Callable[[str], Visit]:
    """A visit brought to ``status`` through the services."""

    def make(status: str) -> Visit:
        if status == VS.ASSIGNED:
            return assigned()
        if status == VS.CHECKED_IN:
            return services.visit_check_in(actor=world.worker, visit=assigned(), at=world.start)
        if status == VS.CANCELLED:
            return services.visit_decline(actor=world.vol, visit=assigned(), reason="有事")
        if status == VS.NO_SHOW:
            return services.visit_no_show(actor=world.worker, visit=assigned())
        visit = checked_out()
        if status in (VS.CONFIRMED, VS.RATED):
            visit = services.visit_confirm(actor=world.son, visit=visit)
        if status == VS.RATED:
            services.visit_rate(actor=world.son, visit=visit, stars=4)
        if status in (VS.DISPUTED, VS.VOIDED):
            dispute = services.visit_dispute(actor=world.son, visit=visit, complaint="没做完")
            if status == VS.VOIDED:
                services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="void", reason="核实")
        visit.refresh_from_db()
        assert visit.status == status
        return visit

    return make


def actions(world) -> dict[str, Callable[[Visit], object]]:
    """Each public service that moves a visit, called by someone allowed to call it."""
    later = world.start + dt.timedelta(minutes=30)
    return {
        "check_in": lambda v: services.visit_check_in(actor=world.worker, visit=v, at=world.start),
        "check_out": lambda v: services.visit_check_out(actor=world.vol, visit=v, at=later),
        "confirm": lambda v: services.visit_confirm(actor=world.son, visit=v),
        "dispute": lambda v: services.visit_dispute(actor=world.son, visit=v, complaint="不满意"),
        "decline": lambda v: services.visit_decline(actor=world.vol, visit=v, reason="有事"),
        "no_show": lambda v: services.visit_no_show(actor=world.worker, visit=v),
        "rate": lambda v: services.visit_rate(actor=world.son, visit=v, stars=3),
    }


# The actions allowed from each status (confirming a confirmed visit returns it unchanged; rating a rated
# visit from the same side is AlreadyRated, not a transition).
ALLOWED = {
    VS.ASSIGNED: {"check_in", "decline", "no_show"},
    VS.CHECKED_IN: {"check_out"},
    VS.CHECKED_OUT: {"confirm", "dispute"},
    VS.CONFIRMED: {"confirm", "rate"},
    VS.RATED: {"confirm", "rate"},
    VS.DISPUTED: set(),
    VS.VOIDED: {"rate"},
    VS.CANCELLED: set(),
    VS.NO_SHOW: set(),
}


@pytest.mark.parametrize("status", list(ALLOWED))
def test_every_illegal_visit_transition_is_refused(world, visit_in, status):
    visit = visit_in(status)
    stale = Visit.objects.get(pk=visit.pk)
    for name, action in actions(world).items():
        if name in ALLOWED[status]:
            continue
        for copy in (Visit.objects.get(pk=visit.pk), stale):
            before = care_counts()
            with pytest.raises(errors.IllegalTransition) as info:
                action(copy)
            assert info.value.code == "care.illegal_transition", name
            assert care_counts() == before, name
    visit.refresh_from_db()
    assert visit.status == status


@pytest.mark.parametrize("status", [VS.CHECKED_IN, VS.CHECKED_OUT, VS.CONFIRMED, VS.DISPUTED, VS.VOIDED])
def test_an_outdated_copy_cannot_move_a_visit_back(world, assigned, visit_in, status):
    """A page opened while the visit was "assigned" cannot check in, decline or record a no-show later."""
    visit = visit_in(status)
    outdated = Visit.objects.get(pk=visit.pk)
    outdated.status, outdated.check_in_at, outdated.check_out_at = VS.ASSIGNED, None, None
    for name in ("check_in", "decline", "no_show"):
        before = care_counts()
        with pytest.raises(errors.IllegalTransition):
            actions(world)[name](outdated)
        assert care_counts() == before, name


def test_resolving_twice_and_resolving_an_undisputed_visit(world, checked_out):
    dispute = services.visit_dispute(actor=world.son, visit=checked_out(), complaint="没做完")
    services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="part", minutes=30, reason="一半")
    for copy in (dispute, Dispute.objects.get(pk=dispute.pk)):
        before = care_counts()
        with pytest.raises(errors.IllegalTransition):
            services.dispute_resolve(actor=world.worker, dispute=copy, outcome="void", reason="再议")
        assert care_counts() == before
    visit = Visit.objects.get(pk=dispute.visit_id)
    before = care_counts()
    with pytest.raises(errors.IllegalTransition):  # confirmed after the decision: no second dispute
        services.visit_dispute(actor=world.son, visit=visit, complaint="还是不满意")
    assert care_counts() == before


def test_every_move_writes_one_event(world, assigned):
    visit = assigned()
    visit = services.visit_decline(actor=world.vol, visit=visit, reason="有事")
    need = Need.objects.get(pk=visit.need_id)
    second = services.visit_assign(actor=world.worker, need=need, volunteer=world.vol2.resident)
    second = services.visit_check_in(actor=world.worker, visit=second, at=world.start)
    second = services.visit_check_out(actor=world.vol2, visit=second, at=world.start + dt.timedelta(hours=1))
    dispute = services.visit_dispute(actor=world.son, visit=second, complaint="迟到")
    services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="post", reason="路上堵车，照付")
    services.visit_rate(actor=world.son, visit=second, stars=4)
    events = [(e.visit_id, e.from_status, e.to_status) for e in CareEvent.objects.filter(need=need)]
    assert events == [
        (None, "", "open"),
        (None, "open", "assigned"),
        (visit.pk, "", "assigned"),
        (visit.pk, "assigned", "cancelled"),
        (None, "assigned", "open"),
        (None, "open", "assigned"),
        (second.pk, "", "assigned"),
        (second.pk, "assigned", "checked_in"),
        (second.pk, "checked_in", "checked_out"),
        (second.pk, "checked_out", "disputed"),
        (second.pk, "disputed", "confirmed"),
        (None, "assigned", "done"),
        (second.pk, "confirmed", "rated"),
    ]
    assert all(e.actor_id for e in CareEvent.objects.filter(need=need))


@pytest.mark.parametrize("status", [NS.DONE, NS.CANCELLED, NS.EXPIRED])
def test_a_closed_need_cannot_be_cancelled_assigned_or_applied_for(world, publish, checked_out, status):
    if status == NS.DONE:
        need = services.visit_confirm(actor=world.son, visit=checked_out()).need
    elif status == NS.CANCELLED:
        need = services.need_cancel(actor=world.son, need=publish(), reason="不要了")
    else:
        need = publish(hours=1)
        services.needs_expire(now=world.start + dt.timedelta(hours=2))
    need = Need.objects.get(pk=need.pk)
    assert need.status == status
    refusals = [
        lambda: services.need_cancel(actor=world.son, need=need, reason="不要了"),
        lambda: services.visit_assign(actor=world.worker, need=need, volunteer=world.vol2.resident),
        lambda: services.application_apply(actor=world.vol2, need=need),
        lambda: services.need_fulfil_by_guarantee(actor=world.worker, need=need, provider="颐康家政"),
    ]
    for refuse in refusals:
        before = care_counts()
        with pytest.raises(errors.IllegalTransition):
            refuse()
        assert care_counts() == before


def test_an_assigned_need_cannot_take_a_second_volunteer(world, assigned):
    visit = assigned()
    before = care_counts()
    with pytest.raises(errors.IllegalTransition):
        services.visit_assign(actor=world.worker, need=visit.need, volunteer=world.vol2.resident)
    assert care_counts() == before
