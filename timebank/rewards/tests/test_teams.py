"""Team honours (优秀团队) and team bars after a falsified group event."""

# ruff: noqa: F401, F811 - the teams fixtures are imported and then requested by name
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from timebank.ledger.models import Transfer
from timebank.rewards import services
from timebank.rewards.models import Bar, Falsification, Honour
from timebank.rewards.selectors import service_minutes, team_active_bar, town_roll
from timebank.teams import services as teams
from timebank.teams.services import SheetRow
from timebank.teams.tests.conftest import join, leader, leader_user, org_admin, past_event, red_cross, team, volunteer

from .test_services import refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def sheet(team, past_event, leader, leader_user, volunteer):  # type: ignore[no-untyped-def]
    member = volunteer(name="陈一")
    teams.team_member_add(actor=leader_user, team=team, resident=member)
    join(leader_user, past_event, member)
    join(leader_user, past_event, leader)
    return teams.event_sheet_submit(
        actor=leader_user,
        event=past_event,
        rows=[SheetRow(resident=member, minutes=120), SheetRow(resident=leader, minutes=90)],
    )


def honour(actor, **kw):  # type: ignore[no-untyped-def]
    data = {
        "kind": "excellent_team",
        "title": "优秀志愿服务团队",
        "year": timezone.localdate().year,
        "citation": "重阳探访",
    }
    return services.honour_grant(actor=actor, **(data | kw))


def test_a_team_honour_shows_the_team_on_the_roll(team, town, town_admin):
    granted = honour(town_admin, team=team)
    assert granted.town == town and granted.person is None
    assert [h.name for h in town_roll(town).honours] == ["石岐街道红十字志愿服务队"]
    refused("rewards.duplicate_honour", honour, town_admin, team=team)


def test_an_honour_names_the_right_subject(team, leader, town_admin, other_town_admin):
    refused("rewards.honour_subject", honour, town_admin, person=leader)
    refused("rewards.honour_subject", honour, town_admin, team=team, kind="excellent_volunteer")
    refused("rewards.honour_subject", honour, town_admin, team=team, person=leader)
    refused("out_of_scope", honour, other_town_admin, team=team)


def test_a_falsified_group_event_reverses_every_attendee_and_bars_the_team(
    team, sheet, leader, town_admin, other_town_admin
):
    assert service_minutes(leader) == 90
    refused("out_of_scope", services.team_falsification_record, actor=other_town_admin, batch=sheet.batch, reason="x")
    record = services.team_falsification_record(actor=town_admin, batch=sheet.batch, reason="签到表为事后补造")
    assert (record.team, record.person, record.minutes, record.reversed_minutes) == (team, None, 210, 210)
    assert Transfer.objects.filter(kind=Transfer.Kind.REVERSAL).count() == 2
    assert service_minutes(leader) == 0
    bar = team_active_bar(team)
    assert bar is not None and bar.years == 2 and bar.person is None
    assert not Bar.objects.filter(person=leader).exists()  # attendees are not barred for the team's sheet
    refused("rewards.barred", honour, town_admin, team=team)
    refused(
        "rewards.already_falsified", services.team_falsification_record, actor=town_admin, batch=sheet.batch, reason="x"
    )


def test_the_team_pages(client, team, sheet, town_admin, other_town_admin):
    client.force_login(town_admin)
    page = client.get(reverse("web:rewards:team", args=[team.pk])).content.decode()
    assert "重阳节敬老院探访" in page
    falsify = reverse("web:rewards:falsify_batch", args=[sheet.batch_id])
    assert client.get(falsify).status_code == 200
    assert client.post(falsify, {"step": "confirm", "reason": "签到表造假"}).status_code == 302
    assert Falsification.objects.filter(team=team).count() == 1
    data = {"title": "优秀团队", "year": timezone.localdate().year, "citation": "x"}
    response = client.post(reverse("web:rewards:team", args=[team.pk]), data)
    assert response.status_code == 403 and not Honour.objects.exists()
    client.force_login(other_town_admin)
    assert client.get(reverse("web:rewards:team", args=[team.pk])).status_code == 404
    assert client.get(falsify).status_code == 404
