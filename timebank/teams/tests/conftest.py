"""Fixtures for the teams tests: the Red Cross with a town team in 石岐街道, a leader, volunteers, an event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from timebank.people.models import Resident, User
from timebank.people.services import login_create
from timebank.people.tests.factories import next_seq
from timebank.places.models import Region, Site
from timebank.teams import services
from timebank.teams.models import GroupEvent, Organisation, Team
from timebank.teams.selectors import live_event_signups


@pytest.fixture
def red_cross(supervisor: User, city: Region) -> Organisation:
    return services.organisation_create(actor=supervisor, kind="red_cross", name="中山市红十字会", region=city)


@pytest.fixture
def youth_league(supervisor: User, city: Region) -> Organisation:
    return services.organisation_create(actor=supervisor, kind="youth_league", name="共青团中山市委", region=city)


@pytest.fixture
def org_admin(partner_admin: User, red_cross: Organisation, supervisor: User) -> User:
    services.organisation_staff_add(actor=supervisor, organisation=red_cross, user=partner_admin)
    return partner_admin


@pytest.fixture
def volunteer(make_resident: Callable[..., Resident]) -> Callable[..., Resident]:
    def make(**kwargs: Any) -> Resident:
        kwargs.setdefault("roles", ("volunteer",))
        kwargs.setdefault("age", 35)
        return make_resident(**kwargs)

    return make


@pytest.fixture
def leader(volunteer: Callable[..., Resident]) -> Resident:
    return volunteer(name="梁队长", phone=f"138{next_seq():08d}")


@pytest.fixture
def leader_user(leader: Resident) -> User:
    return login_create(actor=None, resident=leader, password="Tb-test-pass-2026")


@pytest.fixture
def team(org_admin: User, red_cross: Organisation, town: Region, leader: Resident) -> Team:
    return services.team_create(
        actor=org_admin,
        organisation=red_cross,
        name="石岐街道红十字志愿服务队",
        level="town",
        region=town,
        leader=leader,
    )


@pytest.fixture
def past_event(team: Team, org_admin: User, site: Site) -> GroupEvent:
    """A 重阳节 visit that took place yesterday, 09:00–11:00 local time."""
    day = timezone.localdate() - dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    return services.event_create(
        actor=org_admin,
        team=team,
        title="重阳节敬老院探访",
        site=site,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=3,
        festival="重阳节",
    )


def join(actor: User, event: GroupEvent, resident: Resident) -> None:
    """Sign up as it happened: the day before the event (sign-up closes when an event ends)."""
    with time_machine.travel(event.starts_at - dt.timedelta(days=1), tick=False):
        services.event_signup_add(actor=actor, event=event, resident=resident)


def signed_up(event: GroupEvent) -> list[Resident]:
    return [s.resident for s in live_event_signups(event)]
