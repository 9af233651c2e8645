"""The teams pages with Django's test client: sign-up with confirmation, the attendance sheet posted once,
bad input as 4xx with nothing written, scope refusals, judges' scores and the results."""
# ruff: noqa: F811 - the teams fixtures are imported and then requested by name

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from timebank.ledger.models import Batch, Transfer
from timebank.ledger.selectors import group_balance
from timebank.people.services import login_create
from timebank.people.tests.factories import next_seq
from timebank.teams import services
from timebank.teams.models import (
    Competition,
    EventSheet,
    EventSignup,
    GroupEvent,
    Nomination,
    ProjectLog,
    Score,
    TeamMember,
)
from timebank.teams.tests.conftest import (  # noqa: F401 - fixtures
    join,
    leader,
    leader_user,
    org_admin,
    past_event,
    red_cross,
    team,
    volunteer,
    youth_league,
)

pytestmark = pytest.mark.django_db


def url(name: str, *args: object) -> str:
    return reverse(f"web:teams:{name}", args=args)


def counts() -> tuple[int, ...]:
    return (
        EventSheet.objects.count(),
        Batch.objects.count(),
        Transfer.objects.count(),
        EventSignup.objects.count(),
        TeamMember.objects.count(),
        Score.objects.count(),
    )


@pytest.fixture
def vol(volunteer):
    person = volunteer(name="志愿者甲", phone=f"138{next_seq():08d}")
    person.user = login_create(actor=None, resident=person, password="Tb-test-pass-2026")
    return person


@pytest.fixture
def soon_event(team, leader_user):
    start = (timezone.now() + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    return services.event_create(
        actor=leader_user,
        team=team,
        title="学雷锋日义剪",
        place_text="莲峰社区广场",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        capacity=1,
        festival="学雷锋日",
    )


# --------------------------------------------------------------------------------------------- volunteer


def test_volunteer_finds_an_event_and_signs_up_with_confirmation(client, vol, soon_event):
    client.force_login(vol.user)
    page = client.get(url("index"))
    assert page.status_code == 200 and "学雷锋日义剪" in page.content.decode()
    confirm = client.get(url("event_join", soon_event.pk))
    assert confirm.status_code == 200 and EventSignup.objects.count() == 0  # the confirmation step writes nothing
    done = client.post(url("event_join", soon_event.pk), {"confirm": "1"})
    assert done.status_code == 302
    assert EventSignup.objects.filter(event=soon_event, resident=vol).count() == 1
    again = client.post(url("event_join", soon_event.pk), {"confirm": "1"})  # a double submit
    assert again.status_code == 409 and EventSignup.objects.count() == 1


def test_over_capacity_is_refused_on_the_page(client, vol, soon_event, volunteer, leader_user):
    services.event_signup_add(actor=leader_user, event=soon_event, resident=volunteer())  # the one place
    client.force_login(vol.user)
    before = counts()
    response = client.post(url("event_join", soon_event.pk), {"confirm": "1"})
    assert response.status_code == 409
    assert "1" in response.content.decode() and counts() == before


def test_volunteer_joins_a_project(client, vol, team, leader_user):
    project = services.project_create(actor=leader_user, team=team, title="买菜帮帮忙", places_wanted=5)
    client.force_login(vol.user)
    assert "买菜帮帮忙" in client.get(url("index")).content.decode()
    assert client.post(url("project_join", project.pk), {"confirm": "1"}).status_code == 302
    assert project.signups.filter(resident=vol).exists()


def test_links_from_the_volunteer_and_area_pages(client, vol, town_admin):
    client.force_login(vol.user)
    assert url("index") in client.get(reverse("web:volunteer:index")).content.decode()
    client.force_login(town_admin)
    assert url("index") in client.get(reverse("web:area:index")).content.decode()


# --------------------------------------------------------------------------------------------- sheet


@pytest.fixture
def signed(past_event, leader_user, volunteer):
    people = [volunteer(name="陈一"), volunteer(name="黄二")]
    for person in people:
        join(leader_user, past_event, person)
    return people


def sheet_data(event, people, *, start="09:00", end="11:00", step="review", skip=()):
    data = {"step": step}
    for person in people:
        if person in skip:
            continue
        data |= {f"present_{person.pk}": "on", f"arrived_{person.pk}": start, f"left_{person.pk}": end}
    return data


def test_sheet_prefilled_review_confirm_posts_one_batch_even_twice(client, leader_user, past_event, signed):
    client.force_login(leader_user)
    page = client.get(url("sheet", past_event.pk))
    body = page.content.decode()
    assert page.status_code == 200 and 'value="09:00"' in body and 'value="11:00"' in body and "陈一" in body
    review = client.post(url("sheet", past_event.pk), sheet_data(past_event, signed))
    assert review.status_code == 200 and "sheet-confirm" in review.content.decode()
    assert Batch.objects.count() == 0  # the review writes nothing
    data = sheet_data(past_event, signed, step="confirm")
    assert client.post(url("sheet", past_event.pk), data).status_code == 302
    assert client.post(url("sheet", past_event.pk), data).status_code == 302  # submitted twice: the same batch
    assert Batch.objects.count() == 1 and EventSheet.objects.count() == 1
    assert [group_balance(p).available for p in signed] == [120, 120]
    shown = client.get(url("event", past_event.pk)).content.decode()
    assert "posted" in shown


def test_sheet_changed_after_posting_is_refused(client, leader_user, past_event, signed):
    client.force_login(leader_user)
    client.post(url("sheet", past_event.pk), sheet_data(past_event, signed, step="confirm"))
    before = counts()
    response = client.post(url("sheet", past_event.pk), sheet_data(past_event, signed, step="confirm", end="10:00"))
    assert response.status_code == 409 and counts() == before


@pytest.mark.parametrize(
    ("start", "end"), [("08:30", "10:00"), ("09:00", "11:30"), ("10:00", "09:30")], ids=["early", "late", "reversed"]
)
def test_sheet_times_outside_the_event_on_the_page(client, leader_user, past_event, signed, start, end):
    client.force_login(leader_user)
    before = counts()
    for step in ("review", "confirm"):
        response = client.post(
            url("sheet", past_event.pk), sheet_data(past_event, signed, start=start, end=end, step=step)
        )
        assert response.status_code == 400
        assert "09:00" in response.content.decode()  # the message names the event's window
    assert counts() == before


def test_sheet_with_nobody_ticked(client, leader_user, past_event, signed):
    client.force_login(leader_user)
    before = counts()
    response = client.post(url("sheet", past_event.pk), sheet_data(past_event, signed, skip=signed))
    assert response.status_code == 400 and counts() == before


def test_sheet_row_for_someone_not_signed_up_is_ignored_not_posted(client, leader_user, past_event, signed, volunteer):
    """The page lists only sign-ups; a forged row for anyone else is not read (the service refuses it too)."""
    stranger = volunteer()
    client.force_login(leader_user)
    data = sheet_data(past_event, [*signed, stranger], step="confirm")
    assert client.post(url("sheet", past_event.pk), data).status_code == 302
    assert group_balance(stranger).available == 0


def test_sheet_is_for_managers_only(client, vol, past_event, town_admin):
    for user in (vol.user, town_admin):
        client.force_login(user)
        assert client.get(url("sheet", past_event.pk)).status_code == 403
        assert client.post(url("sheet", past_event.pk), {"step": "confirm"}).status_code == 403
    assert Batch.objects.count() == 0


# --------------------------------------------------------------------------------------------- team pages and scope


def test_town_admin_sees_but_cannot_manage(client, team, town_admin, other_town_admin, volunteer):
    client.force_login(town_admin)
    page = client.get(url("team", team.pk))
    assert page.status_code == 200 and "member-form" not in page.content.decode()
    before = counts()
    person = volunteer(phone=f"138{next_seq():08d}")
    assert client.post(url("member_add", team.pk), {"m-phone": person.phone}).status_code == 403
    client.force_login(other_town_admin)
    assert client.get(url("team", team.pk)).status_code == 403  # another town's team
    assert counts() == before


def test_other_organisation_is_refused(client, team, youth_league, supervisor, make_staff, town, volunteer):
    league = make_staff("partner_admin", region=town, name="团委")
    services.organisation_staff_add(actor=supervisor, organisation=youth_league, user=league)
    client.force_login(league)
    person = volunteer(phone=f"138{next_seq():08d}")
    before = counts()
    assert client.post(url("member_add", team.pk), {"m-phone": person.phone}).status_code == 403
    assert client.get(url("event_new", team.pk)).status_code == 403
    assert counts() == before


def test_leader_adds_a_member_by_phone(client, team, leader_user, volunteer, make_resident, other_community):
    client.force_login(leader_user)
    person = volunteer(name="新队员", phone=f"138{next_seq():08d}")
    assert client.post(url("member_add", team.pk), {"m-phone": person.phone, "m-role": "member"}).status_code == 302
    assert TeamMember.objects.filter(team=team, resident=person, left_on__isnull=True).exists()
    before = counts()
    unknown = client.post(url("member_add", team.pk), {"m-phone": "13812345678"})
    assert unknown.status_code == 400
    far = make_resident(age=30, roles=("volunteer",), home_region=other_community, phone=f"138{next_seq():08d}")
    refused = client.post(url("member_add", team.pk), {"m-phone": far.phone})
    body = refused.content.decode()
    assert refused.status_code == 403 and far.name in body and "石岐街道" in body
    assert counts() == before


def test_leader_cannot_remove_the_last_leader(client, team, leader_user, leader):
    client.force_login(leader_user)
    me = TeamMember.objects.get(team=team, resident=leader)
    response = client.post(url("member_change", me.pk), {"action": "remove"})
    assert response.status_code == 409
    me.refresh_from_db()
    assert me.left_on is None


def test_leader_creates_an_event_and_a_project_with_a_log(client, team, leader_user):
    client.force_login(leader_user)
    day = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    response = client.post(
        url("event_new", team.pk),
        {"title": "重阳节探访", "day": day, "start": "09:00", "end": "11:30", "capacity": "20", "festival": "重阳节"},
    )
    assert response.status_code == 302 and GroupEvent.objects.filter(title="重阳节探访").exists()
    bad = client.post(
        url("event_new", team.pk), {"title": "x", "day": day, "start": "11:00", "end": "09:00", "capacity": "5"}
    )
    assert bad.status_code == 400 and GroupEvent.objects.count() == 1
    assert client.post(url("project_new", team.pk), {"title": "守护桑榆", "places_wanted": "10"}).status_code == 302
    project = team.projects.get()
    ok = client.post(
        url("project", project.pk),
        {"log-day": timezone.localdate().isoformat(), "log-text": "探访8位空巢老人", "log-people_reached": "8"},
    )
    assert ok.status_code == 302 and ProjectLog.objects.count() == 1
    future = client.post(
        url("project", project.pk),
        {"log-day": day, "log-text": "未来", "log-people_reached": "1"},
    )
    assert future.status_code == 400 and ProjectLog.objects.count() == 1


# --------------------------------------------------------------------------------------------- competition


def test_judge_scores_and_results_are_listed_when_closed(client, team, org_admin, supervisor, make_staff, city):
    project = services.project_create(actor=org_admin, team=team, title="守护桑榆")
    judge = make_staff("city_supervisor", region=city, name="评委")
    comp = services.competition_create(
        actor=supervisor, title="项目大赛", year=2026, criteria=["成效", "创新"], judges=[judge]
    )
    nom = services.nomination_add(actor=org_admin, competition=comp, project=project)
    client.force_login(judge)
    page = client.get(url("competition", comp.pk))
    assert page.status_code == 200 and "score-form" in page.content.decode()
    before = counts()
    bad = client.post(url("competition", comp.pk), {f"s_{nom.pk}_0": "101", f"s_{nom.pk}_1": "50"})
    assert bad.status_code == 400 and counts() == before  # nothing saved, not even the good cell
    assert client.post(url("competition", comp.pk), {f"s_{nom.pk}_0": "90", f"s_{nom.pk}_1": "70"}).status_code == 302
    assert Score.objects.count() == 2
    assert (
        "results"
        not in client.get(url("competition", comp.pk)).content.decode().split("<main")[1].split("data-testid")[0]
    )
    client.force_login(supervisor)
    assert client.post(url("competition", comp.pk), {f"s_{nom.pk}_0": "10"}).status_code == 403  # not a judge
    services.competition_close(actor=supervisor, competition=comp)
    results = client.get(url("competition", comp.pk)).content.decode()
    assert 'data-testid="results"' in results and "80.00" in results


def test_judge_of_the_same_team_is_refused(client, team, org_admin, supervisor, leader_user):
    project = services.project_create(actor=org_admin, team=team, title="守护桑榆")
    comp = services.competition_create(
        actor=supervisor, title="项目大赛", year=2026, criteria=["成效"], judges=[leader_user]
    )
    nom = services.nomination_add(actor=org_admin, competition=comp, project=project)
    client.force_login(leader_user)
    response = client.post(url("competition", comp.pk), {f"s_{nom.pk}_0": "100"})
    assert response.status_code == 403 and Score.objects.count() == 0


# --------------------------------------------------------------------------------------------- running competitions


def comp_counts() -> tuple[int, ...]:
    return (
        Competition.objects.count(),
        Competition.objects.filter(status="closed").count(),
        Nomination.objects.count(),
        Competition.judges.through.objects.count(),
    )


def comp_data(judges, **extra):
    return {
        "title": "2027年志愿服务项目大赛",
        "year": "2027",
        "criteria": "成效\n创新\n",
        "judges": [j.pk for j in judges],
    } | extra


@pytest.mark.parametrize("who", ["supervisor", "org_admin"])
def test_competition_created_with_a_confirmation_step(client, request, who, make_staff, town):
    actor = request.getfixturevalue(who)
    judge = make_staff("town_admin", region=town, name="评委乙")
    client.force_login(actor)
    assert url("competition_new") in client.get(url("competitions")).content.decode()
    page = client.get(url("competition_new"))
    assert page.status_code == 200 and "评委乙" in page.content.decode()
    review = client.post(url("competition_new"), comp_data([judge], step="review"))
    body = review.content.decode()
    assert review.status_code == 200 and 'data-testid="competition-confirm"' in body and "成效、创新" in body
    assert comp_counts() == (0, 0, 0, 0)  # the confirmation step writes nothing
    change = client.post(url("competition_new"), comp_data([judge], change="1"))  # "No, change it"
    assert change.status_code == 200 and 'data-testid="competition-form"' in change.content.decode()
    assert "2027年志愿服务项目大赛" in change.content.decode() and comp_counts() == (0, 0, 0, 0)
    done = client.post(url("competition_new"), comp_data([judge], step="confirm"))
    comp = Competition.objects.get()
    assert done.status_code == 302 and done["Location"] == url("competition", comp.pk)
    assert comp.criteria == ["成效", "创新"] and list(comp.judges.all()) == [judge] and comp.created_by == actor


def test_competition_creation_refused_to_others(client, vol, town_admin, leader_user, make_staff, town):
    judge = make_staff("town_admin", region=town)
    for user in (vol.user, town_admin, leader_user):
        client.force_login(user)
        assert client.get(url("competition_new")).status_code == 403
        assert client.post(url("competition_new"), comp_data([judge], step="confirm")).status_code == 403
        assert url("competition_new") not in client.get(url("competitions")).content.decode()
    assert comp_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"criteria": " \n "}, 400),
        ({"criteria": "成效\n成效"}, 400),
        ({"year": "1999"}, 400),
        ({"title": ""}, 400),
        ({"judges": ["999999"]}, 400),
        ({"step": "other"}, 400),
    ],
    ids=["no-criteria", "criterion-twice", "bad-year", "no-title", "unknown-judge", "bad-step"],
)
def test_competition_bad_input_writes_nothing(client, supervisor, make_staff, town, extra, status):
    judge = make_staff("town_admin", region=town)
    client.force_login(supervisor)
    before = comp_counts()
    for step in ("review", "confirm"):
        response = client.post(url("competition_new"), comp_data([judge], step=step) | extra)
        assert response.status_code == status
    assert comp_counts() == before


def test_competition_same_title_and_year_twice(client, supervisor, make_staff, town):
    judge = make_staff("town_admin", region=town)
    client.force_login(supervisor)
    assert client.post(url("competition_new"), comp_data([judge], step="confirm")).status_code == 302
    before = comp_counts()
    again = client.post(url("competition_new"), comp_data([judge], step="confirm"))
    assert again.status_code == 400 and comp_counts() == before


@pytest.fixture
def open_comp(supervisor, make_staff, town):
    judge = make_staff("town_admin", region=town, name="评委丙")
    return services.competition_create(actor=supervisor, title="项目大赛", year=2027, criteria=["成效"], judges=[judge])


def test_leader_nominates_their_own_project(client, open_comp, team, leader_user, org_admin):
    mine = services.project_create(actor=leader_user, team=team, title="守护桑榆")
    client.force_login(leader_user)
    page = client.get(url("competition", open_comp.pk)).content.decode()
    assert 'data-testid="nominate-form"' in page and "守护桑榆" in page
    done = client.post(url("nominate", open_comp.pk), {"project": mine.pk})
    assert done.status_code == 302 and Nomination.objects.filter(competition=open_comp, project=mine).count() == 1
    before = comp_counts()
    twice = client.post(url("nominate", open_comp.pk), {"project": mine.pk})  # no longer a choice
    assert twice.status_code in (400, 403) and comp_counts() == before


def test_nomination_refused_and_bad_input(
    client, open_comp, team, leader_user, vol, town_admin, youth_league, supervisor, make_staff, town, volunteer
):
    mine = services.project_create(actor=leader_user, team=team, title="守护桑榆")
    other_leader = volunteer(phone=f"138{next_seq():08d}")
    league = make_staff("partner_admin", region=town, name="团委干部")
    services.organisation_staff_add(actor=supervisor, organisation=youth_league, user=league)
    other_team = services.team_create(
        actor=league, organisation=youth_league, name="青年志愿者队", level="town", region=town, leader=other_leader
    )
    theirs = services.project_create(actor=league, team=other_team, title="买菜帮帮忙")
    before = comp_counts()
    for user in (vol.user, town_admin):  # manage no team and run no competition
        client.force_login(user)
        assert 'data-testid="nominate-form"' not in client.get(url("competition", open_comp.pk)).content.decode()
        assert client.post(url("nominate", open_comp.pk), {"project": mine.pk}).status_code == 403
    client.force_login(leader_user)
    assert client.post(url("nominate", open_comp.pk), {"project": theirs.pk}).status_code == 400  # another team's
    assert client.post(url("nominate", open_comp.pk), {"project": "x"}).status_code == 400
    assert client.post(url("nominate", open_comp.pk), {}).status_code == 400
    assert comp_counts() == before
    services.competition_close(actor=supervisor, competition=open_comp)
    before = comp_counts()
    closed = client.post(url("nominate", open_comp.pk), {"project": mine.pk})
    assert closed.status_code == 409 and comp_counts() == before


def test_competition_closed_with_a_confirmation_step_then_results(client, open_comp, team, org_admin, supervisor):
    project = services.project_create(actor=org_admin, team=team, title="守护桑榆")
    nom = services.nomination_add(actor=org_admin, competition=open_comp, project=project)
    judge = open_comp.judges.get()
    services.score_set(judge=judge, nomination=nom, criterion="成效", points=88)
    client.force_login(supervisor)
    page = client.get(url("competition", open_comp.pk)).content.decode()
    assert url("competition_close", open_comp.pk) in page
    confirm = client.get(url("competition_close", open_comp.pk))
    assert confirm.status_code == 200 and 'data-testid="close-confirm"' in confirm.content.decode()
    assert client.post(url("competition_close", open_comp.pk), {}).status_code == 200  # no confirm: nothing
    open_comp.refresh_from_db()
    assert open_comp.status == "open"
    done = client.post(url("competition_close", open_comp.pk), {"confirm": "1"}, follow=True)
    open_comp.refresh_from_db()
    body = done.content.decode()
    assert open_comp.status == "closed" and 'data-testid="results"' in body and "88.00" in body
    assert "close-link" not in body and "nominate-form" not in body
    again = client.post(url("competition_close", open_comp.pk), {"confirm": "1"})
    assert again.status_code == 409


def test_competition_close_refused_to_others(client, open_comp, org_admin, town_admin, leader_user, vol):
    judge = open_comp.judges.get()
    for user in (org_admin, town_admin, leader_user, vol.user, judge):  # not the creator, not a city supervisor
        client.force_login(user)
        assert "close-link" not in client.get(url("competition", open_comp.pk)).content.decode()
        assert client.get(url("competition_close", open_comp.pk)).status_code == 403
        assert client.post(url("competition_close", open_comp.pk), {"confirm": "1"}).status_code == 403
    open_comp.refresh_from_db()
    assert open_comp.status == "open" and open_comp.closed_at is None


def test_partner_staff_closes_the_competition_they_created(client, org_admin, make_staff, town):
    judge = make_staff("town_admin", region=town)
    comp = services.competition_create(
        actor=org_admin, title="红会项目赛", year=2027, criteria=["成效"], judges=[judge]
    )
    client.force_login(org_admin)
    assert client.post(url("competition_close", comp.pk), {"confirm": "1"}).status_code == 302
    comp.refresh_from_db()
    assert comp.status == "closed"


# --------------------------------------------------------------------------------------------- cancelling a sign-up


def live() -> int:
    return EventSignup.objects.filter(withdrawn_at__isnull=True).count()


def test_volunteer_cancels_their_sign_up_with_confirmation(client, vol, soon_event):
    signup = services.event_signup_add(actor=vol.user, event=soon_event, resident=vol)
    client.force_login(vol.user)
    index = client.get(url("index")).content.decode()
    assert url("event_cancel", signup.pk) in index
    confirm = client.get(url("event_cancel", signup.pk))
    assert confirm.status_code == 200 and 'data-testid="cancel-confirm"' in confirm.content.decode() and live() == 1
    assert client.post(url("event_cancel", signup.pk), {}).status_code == 200 and live() == 1  # no confirm
    done = client.post(url("event_cancel", signup.pk), {"confirm": "1"})
    assert done.status_code == 302 and live() == 0 and EventSignup.objects.count() == 1  # the row is kept
    assert url("event_cancel", signup.pk) not in client.get(url("index")).content.decode()
    again = client.post(url("event_cancel", signup.pk), {"confirm": "1"})
    assert again.status_code == 409 and EventSignup.objects.get().withdrawn_at is not None


def test_cancel_refused_for_someone_else(client, vol, soon_event, volunteer, town_admin, leader_user):
    signup = services.event_signup_add(actor=vol.user, event=soon_event, resident=vol)
    other = volunteer(phone=f"138{next_seq():08d}")
    other.user = login_create(actor=None, resident=other, password="Tb-test-pass-2026")
    for user in (other.user, town_admin):
        client.force_login(user)
        assert client.get(url("event_cancel", signup.pk)).status_code == 403
        assert client.post(url("event_cancel", signup.pk), {"confirm": "1"}).status_code == 403
    assert live() == 1
    client.force_login(leader_user)  # the team's leader may
    assert client.post(url("event_cancel", signup.pk), {"confirm": "1"}).status_code == 302 and live() == 0


def test_cancel_refused_once_the_event_started(client, vol, soon_event):
    signup = services.event_signup_add(actor=vol.user, event=soon_event, resident=vol)
    client.force_login(vol.user)
    with time_machine.travel(soon_event.starts_at + dt.timedelta(minutes=5), tick=False):
        assert url("event_cancel", signup.pk) not in client.get(url("index")).content.decode()
        response = client.post(url("event_cancel", signup.pk), {"confirm": "1"})
    assert response.status_code == 409 and "refusal" in response.content.decode() and live() == 1


def test_cancel_refused_once_the_sheet_is_posted(client, leader_user, past_event, signed):
    client.force_login(leader_user)
    client.post(url("sheet", past_event.pk), sheet_data(past_event, signed, step="confirm"))
    signup = EventSignup.objects.filter(event=past_event).first()
    before = counts()
    response = client.post(url("event_cancel", signup.pk), {"confirm": "1"})
    assert response.status_code == 409 and counts() == before and live() == 2
