"""Reads of the care app: scope, the volunteer record (with complaints) and the anomaly flags with evidence."""

from __future__ import annotations

import datetime as dt

import pytest

from timebank.care import selectors, services
from timebank.care.models import Visit
from timebank.people.models import User

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


def test_needs_and_visits_stay_in_scope(world, checked_out, other_town_admin, town_admin, supervisor, partner_admin):
    visit = checked_out()
    for user in (world.worker, town_admin, supervisor, world.son):
        assert list(selectors.needs_visible_to(user)) == [visit.need], user
        assert list(selectors.visits_visible_to(user)) == [visit], user
    assert not selectors.needs_visible_to(other_town_admin).exists()
    assert not selectors.visits_visible_to(other_town_admin).exists()
    # a partner organisation sees its volunteers' visits, never the elders' needs
    assert not selectors.needs_visible_to(partner_admin).exists()
    assert list(selectors.visits_visible_to(partner_admin)) == [visit]
    # a volunteer sees their own visits, not the elder's other needs
    assert list(selectors.visits_visible_to(world.vol)) == [visit]
    assert not selectors.needs_visible_to(world.vol).exists()
    assert not selectors.visits_visible_to(world.vol2).exists()


def test_other_town_cannot_dispatch_resolve_or_print(world, publish, checked_out, other_town_admin):
    from timebank.common.errors import OutOfScope

    need = publish(start=world.start + 3 * H)
    with pytest.raises(OutOfScope):
        services.visit_assign(actor=other_town_admin, need=need, volunteer=world.vol2.resident)
    dispute = services.visit_dispute(actor=world.son, visit=checked_out(), complaint="不满意")
    with pytest.raises(OutOfScope):
        services.dispute_resolve(actor=other_town_admin, dispute=dispute, outcome="void", reason="不行")
    assert not selectors.anomaly_flags(other_town_admin, swap_min=1, long_minutes=1, proxy_per_week=1)


def test_volunteer_record_holds_hours_ratings_complaints_and_no_shows(world, assigned, checked_out):
    good = services.visit_confirm(actor=world.son, visit=checked_out(minutes=60))
    services.visit_rate(actor=world.son, visit=good, stars=5)
    bad = services.visit_confirm(actor=world.son, visit=checked_out(minutes=90, start=world.start + 3 * H))
    services.visit_rate(actor=world.son, visit=bad, stars=1, complaint=True, comment="态度差")
    disputed = checked_out(minutes=60, start=world.start + 6 * H)
    dispute = services.visit_dispute(actor=world.son, visit=disputed, complaint="提前走了")
    services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="part", minutes=30, reason="按半小时")
    services.visit_no_show(actor=world.worker, visit=assigned(start=world.start + 9 * H))
    record = selectors.volunteer_record(world.vol.resident)
    assert record == {"visits": 3, "minutes": 60 + 90 + 30, "rating": 3.0, "complaints": 2, "no_shows": 1}
    assert selectors.volunteer_record(world.vol2.resident) == {
        "visits": 0,
        "minutes": 0,
        "rating": None,
        "complaints": 0,
        "no_shows": 0,
    }


def test_a_volunteers_rating_of_the_elder_is_not_on_the_volunteer_record(world, checked_out):
    visit = services.visit_confirm(actor=world.son, visit=checked_out())
    services.visit_rate(actor=world.vol, visit=visit, stars=1, complaint=True, comment="家里有狗")
    record = selectors.volunteer_record(world.vol.resident)
    assert (record["rating"], record["complaints"]) == (None, 0)


def test_open_needs_near_a_volunteer(world, publish, person, other_community):
    near = publish()
    assigned = publish(start=world.start + 3 * H)
    services.visit_assign(actor=world.worker, need=assigned, volunteer=world.vol2.resident)
    found = selectors.open_needs_near(world.vol.resident)
    assert [(n.pk, d) for n, d in found] == [(near.pk, 0)]
    far = person(name="坦洲义工", age=30, roles=["volunteer"], home_region=other_community)
    assert selectors.open_needs_near(far) == []
    assert selectors.open_needs_near(world.elder) == []  # nobody is offered their own needs


def test_catalogue_lists_active_items():
    codes = {item.code for item in selectors.catalogue()}
    assert {"chat", "bath", "medical", "personal_care"} <= codes and len(codes) == 17


# --------------------------------------------------------------------------------------------- anomaly flags


@pytest.fixture
def pair(person, login):
    """Two retired neighbours who are both elders and volunteers."""
    a = person(name="甲伯", age=65, sex="M", roles=["elder", "volunteer"], languages=["yue"])
    b = person(name="乙伯", age=66, sex="M", roles=["elder", "volunteer"], languages=["yue"])
    return login(a), login(b)


def serve(worker: User, volunteer: User, elder, start: dt.datetime, minutes: int = 60) -> Visit:
    [need] = services.need_publish(
        actor=worker, elder=elder, item="chat", window_start=start, window_end=start + 8 * H, payer="government"
    )
    visit = services.visit_assign(actor=worker, need=need, volunteer=volunteer.resident)
    visit = services.visit_check_in(actor=worker, visit=visit, at=start)
    return services.visit_check_out(actor=volunteer, visit=visit, at=start + dt.timedelta(minutes=minutes))


def test_hour_swapping_is_flagged_with_its_visits(world, pair, social_worker):
    a, b = pair
    ids = []
    for i in range(3):
        start = world.start + dt.timedelta(days=i)
        ids.append(serve(social_worker, a, b.resident, start).pk)
        ids.append(serve(social_worker, b, a.resident, start + 2 * H).pk)
    flags = selectors.anomaly_flags(social_worker)
    [swap] = [f for f in flags if f.kind == "swap"]
    assert sorted(swap.visit_ids) == sorted(ids)
    assert "甲伯" in swap.text and "乙伯" in swap.text
    assert not [f for f in selectors.anomaly_flags(social_worker, swap_min=4) if f.kind == "swap"]


def test_one_way_service_is_not_swapping(world, pair, social_worker):
    a, b = pair
    for i in range(4):
        serve(social_worker, a, b.resident, world.start + dt.timedelta(days=i))
    serve(social_worker, b, a.resident, world.start + dt.timedelta(days=5))
    assert not [f for f in selectors.anomaly_flags(social_worker) if f.kind == "swap"]


def test_very_long_visits_are_flagged(world, assigned, checked_out):
    long = checked_out(minutes=400, hours=8)
    checked_out(minutes=120, start=world.start + 9 * H)
    flags = [f for f in selectors.anomaly_flags(world.worker) if f.kind == "long"]
    assert [f.visit_ids for f in flags] == [[long.pk]]
    assert "400" in flags[0].text


def test_one_proxy_confirming_many_visits_is_flagged(world, checked_out):
    ids = []
    for i in range(3):
        visit = checked_out(start=world.start + dt.timedelta(hours=3 * i))
        ids.append(services.visit_confirm(actor=world.son, visit=visit).pk)
    station = services.visit_confirm(actor=world.worker, visit=checked_out(start=world.start + 12 * H))
    flags = [f for f in selectors.anomaly_flags(world.worker, proxy_per_week=3) if f.kind == "proxy"]
    assert len(flags) == 1 and sorted(flags[0].visit_ids) == sorted(ids) and station.pk not in flags[0].visit_ids
    assert not [f for f in selectors.anomaly_flags(world.worker, proxy_per_week=4) if f.kind == "proxy"]
