"""Teams, projects, competitions and group events: the worked example, every bad input, scope, scoring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from timebank.common.errors import DomainError
from timebank.common.services import policy_set
from timebank.ledger import errors as ledger_errors
from timebank.ledger import services as ledger
from timebank.ledger.models import Account, Batch, Transfer
from timebank.ledger.selectors import group_balance, resident_balance
from timebank.people.models import Resident
from timebank.people.services import relationship_create
from timebank.teams import errors, services
from timebank.teams.models import (
    Competition,
    EventSheet,
    EventSheetRow,
    EventSignup,
    GroupEvent,
    Organisation,
    ProjectSignup,
    Score,
    Team,
    TeamMember,
)
from timebank.teams.selectors import (
    competition_results,
    festival_coefficient,
    live_members,
    teams_visible_to,
)
from timebank.teams.services import SheetRow

from .conftest import join

pytestmark = pytest.mark.django_db


def written() -> dict[str, int]:
    """Row counts of everything a sheet or sign-up could write."""
    return {
        "sheets": EventSheet.objects.count(),
        "rows": EventSheetRow.objects.count(),
        "batches": Batch.objects.count(),
        "transfers": Transfer.objects.count(),
        "signups": EventSignup.objects.count(),
        "coefficients": GroupEvent.objects.filter(coefficient__isnull=False).count(),
    }


def times(event: GroupEvent, start_min: int, end_min: int) -> tuple[dt.datetime, dt.datetime]:
    return event.starts_at + dt.timedelta(minutes=start_min), event.starts_at + dt.timedelta(minutes=end_min)


# --------------------------------------------------------------------------------------------- worked example


def test_worked_example_team_event_sheet_batch_donation(
    org_admin, team, past_event, volunteer, leader, leader_user, make_resident
):
    """A team runs a 重阳节 visit; three sign up; the leader posts the sheet; ONE batch credits the group
    accounts; an attendee donates group hours to the public pool but cannot give them to a parent."""
    a, b = volunteer(name="陈一"), volunteer(name="黄二")
    services.team_member_add(actor=leader_user, team=team, resident=a)
    services.team_member_add(actor=org_admin, team=team, resident=b)
    assert next(m.resident for m in live_members(team)) == leader  # leaders first

    user_a = type(org_admin).objects.create_user(username="13600000001", password="x-Tb-2026-pass", resident=a)
    join(user_a, past_event, a)  # signs up themself
    join(leader_user, past_event, b)
    join(leader_user, past_event, leader)

    arrived, left = times(past_event, 0, 120)
    sheet = services.event_sheet_submit(
        actor=leader_user,
        event=past_event,
        rows=[
            SheetRow(resident=a, arrived_at=arrived, left_at=left),
            SheetRow(resident=b, minutes=90),
            SheetRow(resident=leader, arrived_at=arrived + dt.timedelta(minutes=30), left_at=left),
        ],
    )
    assert Batch.objects.count() == 1
    assert sheet.batch.count == 3 and sheet.coefficient == Decimal(1)
    transfers = Transfer.objects.filter(batch=sheet.batch)
    assert transfers.count() == 3
    assert {t.credit_account.kind for t in transfers} == {Account.Kind.GROUP_EARNED}
    assert group_balance(a).available == 120 and group_balance(b).available == 90
    assert resident_balance(a).available == 0  # nothing in the personal account

    # Group hours may only be donated (policy): to the public pool, yes.
    ledger.donate(key="test-donate-0001", donor=a, minutes=60, from_group_hours=True, memo="捐赠")
    assert group_balance(a).available == 60
    # ... to family, no: refused, nothing written.
    parent = make_resident(age=75, roles=("elder",))
    relationship_create(actor=None, resident=a, relative=parent, kind="parent")
    before = Transfer.objects.count()
    with pytest.raises(ledger_errors.GroupHoursDonationOnly):
        ledger.transfer_post(
            key="test-family-0001",
            debit=ledger.account_for(a, kind=Account.Kind.GROUP_EARNED),
            credit=ledger.account_for(parent),
            minutes=30,
            kind=Transfer.Kind.FAMILY_TRANSFER,
        )
    with pytest.raises(ledger_errors.InsufficientBalance):  # the family path uses the personal account
        ledger.family_transfer(key="test-family-0002", sender=a, recipient=parent, minutes=30)
    assert Transfer.objects.count() == before


def test_same_sheet_twice_posts_one_batch(team, past_event, leader, leader_user, volunteer):
    a = volunteer()
    join(leader_user, past_event, a)
    rows = [SheetRow(resident=a, minutes=120)]
    first = services.event_sheet_submit(actor=leader_user, event=past_event, rows=rows)
    counts = written()
    again = services.event_sheet_submit(actor=leader_user, event=past_event, rows=list(rows))
    assert again.pk == first.pk and again.batch_id == first.batch_id
    assert written() == counts
    assert Batch.objects.filter(key=services.event_batch_key(past_event)).count() == 1


def test_different_sheet_after_posting_is_refused(team, past_event, leader_user, volunteer):
    a, b = volunteer(), volunteer()
    for person in (a, b):
        join(leader_user, past_event, person)
    services.event_sheet_submit(actor=leader_user, event=past_event, rows=[SheetRow(resident=a, minutes=120)])
    counts = written()
    with pytest.raises(errors.SheetAlreadyPosted) as exc:
        services.event_sheet_submit(
            actor=leader_user,
            event=past_event,
            rows=[SheetRow(resident=a, minutes=120), SheetRow(resident=b, minutes=60)],
        )
    assert exc.value.code == "teams.sheet_already_posted"
    assert written() == counts


# --------------------------------------------------------------------------------------------- bad sheets


@pytest.fixture
def two_signed(past_event, leader_user, volunteer):
    a, b = volunteer(name="甲"), volunteer(name="乙")
    for person in (a, b):
        join(leader_user, past_event, person)
    return a, b


def _refused(code, **kwargs):
    before = written()
    with pytest.raises(DomainError) as exc:
        services.event_sheet_submit(**kwargs)
    assert getattr(exc.value, "code", None) == code, exc.value
    assert written() == before
    return exc.value


def test_sheet_with_someone_not_signed_up(past_event, leader_user, two_signed, volunteer):
    a, _b = two_signed
    stranger = volunteer(name="路人")
    exc = _refused(
        "teams.not_signed_up",
        actor=leader_user,
        event=past_event,
        rows=[SheetRow(resident=a, minutes=60), SheetRow(resident=stranger, minutes=60)],
    )
    assert "路人" in exc.text


def test_sheet_with_a_person_twice(past_event, leader_user, two_signed):
    a, _b = two_signed
    _refused(
        "teams.attendee_twice",
        actor=leader_user,
        event=past_event,
        rows=[SheetRow(resident=a, minutes=60), SheetRow(resident=a, minutes=30)],
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [(-30, 60), (0, 150), (60, 60), (90, 30), (-120, -60)],
    ids=["arrived-before", "left-after", "zero-length", "left-before-arrived", "wholly-before"],
)
def test_sheet_times_outside_the_event(past_event, leader_user, two_signed, start, end):
    a, _b = two_signed
    arrived, left = times(past_event, start, end)
    _refused(
        "teams.time_outside_event",
        actor=leader_user,
        event=past_event,
        rows=[SheetRow(resident=a, arrived_at=arrived, left_at=left)],
    )


def test_sheet_with_only_one_time(past_event, leader_user, two_signed):
    a, _b = two_signed
    arrived, _left = times(past_event, 0, 60)
    _refused(
        "teams.time_outside_event", actor=leader_user, event=past_event, rows=[SheetRow(resident=a, arrived_at=arrived)]
    )


@pytest.mark.parametrize("minutes", [0, -5, 121, None])
def test_sheet_minutes_bad(past_event, leader_user, two_signed, minutes):
    a, b = two_signed
    _refused(
        "teams.bad_minutes",
        actor=leader_user,
        event=past_event,
        rows=[SheetRow(resident=b, minutes=60), SheetRow(resident=a, minutes=minutes)],
    )


def test_empty_sheet(past_event, leader_user, two_signed):
    _refused("teams.sheet_empty", actor=leader_user, event=past_event, rows=[])


def test_sheet_before_the_event_starts(team, leader_user, volunteer):
    start = timezone.now() + dt.timedelta(days=2)
    event = services.event_create(
        actor=leader_user,
        team=team,
        title="学雷锋日",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=5,
    )
    a = volunteer()
    services.event_signup_add(actor=leader_user, event=event, resident=a)
    _refused("teams.event_not_started", actor=leader_user, event=event, rows=[SheetRow(resident=a, minutes=60)])


def test_sheet_by_someone_who_does_not_manage_the_team(past_event, two_signed, partner_admin, make_staff, town):
    a, _b = two_signed
    outsider = make_staff("partner_admin", region=town, name="别家机构")
    _refused("teams.not_manager", actor=outsider, event=past_event, rows=[SheetRow(resident=a, minutes=60)])


# --------------------------------------------------------------------------------------------- festival coefficient


def test_festival_coefficient_from_the_policy(supervisor, past_event, leader_user, volunteer):
    day = timezone.localdate(past_event.starts_at)
    assert festival_coefficient("重阳节", on=day) == Decimal(1)  # empty by default
    policy_set(
        actor=supervisor,
        key="teams.festival_coefficients",
        value={"重阳节": 1.5},
        effective_from=day - dt.timedelta(days=3),
        note="test",
        allow_past=True,
    )
    assert festival_coefficient("重阳节", on=day) == Decimal("1.50")
    assert festival_coefficient("国际志愿者日", on=day) == Decimal(1)
    assert festival_coefficient("重阳节", on=day - dt.timedelta(days=4)) == Decimal(1)  # before the version
    a = volunteer()
    join(leader_user, past_event, a)
    sheet = services.event_sheet_submit(actor=leader_user, event=past_event, rows=[SheetRow(resident=a, minutes=120)])
    past_event.refresh_from_db()
    assert sheet.coefficient == past_event.coefficient == Decimal("1.50")
    row = sheet.rows.get()
    assert (row.minutes, row.credited_minutes) == (120, 180)
    assert group_balance(a).available == 180


def test_no_festival_no_bonus(supervisor, team, leader_user, volunteer):
    policy_set(
        actor=supervisor,
        key="teams.festival_coefficients",
        value={"重阳节": 2},
        effective_from=dt.date(2021, 1, 1),
        note="t",
        allow_past=True,
    )
    start = timezone.now() - dt.timedelta(hours=3)
    event = services.event_create(
        actor=leader_user,
        team=team,
        title="周末探访",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=5,
    )
    a = volunteer()
    join(leader_user, event, a)
    sheet = services.event_sheet_submit(actor=leader_user, event=event, rows=[SheetRow(resident=a, minutes=60)])
    assert sheet.coefficient == Decimal(1) and sheet.rows.get().credited_minutes == 60


def test_bad_festival_policy_value_is_refused(supervisor):
    with pytest.raises(DomainError):
        policy_set(
            actor=supervisor,
            key="teams.festival_coefficients",
            value={"重阳节": "lots"},
            effective_from=dt.date(2030, 1, 1),
            note="t",
        )


# --------------------------------------------------------------------------------------------- sign-up


def test_event_over_capacity(past_event, leader_user, volunteer):
    past_event.ends_at = timezone.now() + dt.timedelta(hours=1)  # still open for sign-up
    GroupEvent.objects.filter(pk=past_event.pk).update(ends_at=past_event.ends_at)
    for _ in range(3):
        services.event_signup_add(actor=leader_user, event=past_event, resident=volunteer())
    before = written()
    with pytest.raises(errors.EventFull) as exc:
        services.event_signup_add(actor=leader_user, event=past_event, resident=volunteer())
    assert exc.value.code == "teams.event_full"
    assert written() == before


def test_sign_up_twice(past_event, leader_user, volunteer):
    a = volunteer()
    join(leader_user, past_event, a)
    before = written()
    with pytest.raises(errors.AlreadySignedUp):
        join(leader_user, past_event, a)
    assert written() == before


def test_sign_up_after_the_event_ended(team, leader_user, volunteer):
    start = timezone.now() - dt.timedelta(hours=5)
    event = services.event_create(
        actor=leader_user, team=team, title="过去", starts_at=start, ends_at=start + dt.timedelta(hours=2), capacity=5
    )
    with pytest.raises(errors.EventOver):
        services.event_signup_add(actor=leader_user, event=event, resident=volunteer())
    assert EventSignup.objects.count() == 0


@pytest.fixture
def future_event(team, leader_user):
    start = timezone.now() + dt.timedelta(days=3)
    return services.event_create(
        actor=leader_user,
        team=team,
        title="国际志愿者日",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        capacity=10,
    )


def test_under_18_only_with_a_guardian_named(future_event, leader_user, make_resident):
    student = make_resident(age=16, name="学生")
    with pytest.raises(errors.GuardianRequired) as exc:
        services.event_signup_add(actor=leader_user, event=future_event, resident=student)
    assert exc.value.code == "teams.guardian_required"
    assert EventSignup.objects.count() == 0
    GroupEvent.objects.filter(pk=future_event.pk).update(guardian_name="李老师")
    future_event.refresh_from_db()
    services.event_signup_add(actor=leader_user, event=future_event, resident=student)
    assert EventSignup.objects.count() == 1


def test_adult_who_is_not_a_volunteer_cannot_sign_up(future_event, leader_user, make_resident):
    with pytest.raises(errors.NotAVolunteer):
        services.event_signup_add(actor=leader_user, event=future_event, resident=make_resident(age=40))
    assert EventSignup.objects.count() == 0


def test_barred_volunteer_cannot_sign_up(future_event, leader_user, volunteer):
    barred = volunteer()
    Resident.objects.filter(pk=barred.pk).update(barred_until=timezone.localdate() + dt.timedelta(days=365))
    barred.refresh_from_db()
    with pytest.raises(errors.MayNotServe):
        services.event_signup_add(actor=leader_user, event=future_event, resident=barred)
    assert EventSignup.objects.count() == 0


def test_volunteer_may_not_sign_up_someone_else(future_event, volunteer, django_user_model):
    a, b = volunteer(), volunteer()
    user_a = django_user_model.objects.create_user(username="13600000009", password="x-Tb-2026-pass", resident=a)
    with pytest.raises(errors.NotManager):
        services.event_signup_add(actor=user_a, event=future_event, resident=b)
    assert EventSignup.objects.count() == 0


# --------------------------------------------------------------------------------------------- teams and scope


def test_team_keeps_a_leader(team, leader, org_admin, volunteer):
    boss = TeamMember.objects.get(team=team, resident=leader)
    with pytest.raises(errors.LastLeader):
        services.team_member_remove(actor=org_admin, member=boss)
    with pytest.raises(errors.LastLeader):
        services.team_member_set_role(actor=org_admin, member=boss, role="member")
    boss.refresh_from_db()
    assert boss.role == "leader" and boss.left_on is None
    other = services.team_member_add(actor=org_admin, team=team, resident=volunteer(), role="leader")
    services.team_member_remove(actor=org_admin, member=boss)
    assert [m.pk for m in live_members(team)] == [other.pk]


def test_one_live_membership_per_person(team, org_admin, volunteer):
    a = volunteer()
    services.team_member_add(actor=org_admin, team=team, resident=a)
    with pytest.raises(errors.AlreadyMember):
        services.team_member_add(actor=org_admin, team=team, resident=a)
    assert TeamMember.objects.filter(team=team, resident=a).count() == 1


def test_member_from_another_town_is_refused(team, org_admin, make_resident, other_community):
    outsider = make_resident(age=30, roles=("volunteer",), home_region=other_community)
    before = TeamMember.objects.count()
    with pytest.raises(errors.OutsideTeamArea) as exc:
        services.team_member_add(actor=org_admin, team=team, resident=outsider)
    assert exc.value.code == "teams.outside_area"
    assert TeamMember.objects.count() == before


def test_other_organisation_staff_are_refused(team, youth_league, supervisor, make_staff, town, volunteer, leader):
    league_admin = make_staff("partner_admin", region=town, name="团委干部")
    services.organisation_staff_add(actor=supervisor, organisation=youth_league, user=league_admin)
    before = (TeamMember.objects.count(), Team.objects.count(), GroupEvent.objects.count())
    with pytest.raises(errors.NotManager):
        services.team_member_add(actor=league_admin, team=team, resident=volunteer())
    with pytest.raises(errors.NotManager):
        start = timezone.now() + dt.timedelta(days=1)
        services.event_create(
            actor=league_admin, team=team, title="x", starts_at=start, ends_at=start + dt.timedelta(hours=1), capacity=2
        )
    red_cross = team.organisation
    with pytest.raises(errors.OtherOrganisation):
        services.team_create(
            actor=league_admin, organisation=red_cross, name="冒名队", level="town", region=town, leader=leader
        )
    assert (TeamMember.objects.count(), Team.objects.count(), GroupEvent.objects.count()) == before


def test_team_region_inside_the_organisation(supervisor, make_staff, town, other_town, leader):
    school = services.organisation_create(actor=supervisor, kind="school", name="石岐中学", region=town)
    head = make_staff("partner_admin", region=town, name="校团委")
    services.organisation_staff_add(actor=supervisor, organisation=school, user=head)
    with pytest.raises(errors.OutsideTeamArea):
        services.team_create(
            actor=head, organisation=school, name="坦洲分队", level="school", region=other_town, leader=leader
        )
    assert Team.objects.count() == 0


def test_only_supervisors_register_organisations(town_admin, city):
    with pytest.raises(errors.NotAllowed):
        services.organisation_create(actor=town_admin, kind="other", name="某协会", region=city)
    assert Organisation.objects.count() == 0


def test_who_sees_which_teams(team, town_admin, other_town_admin, supervisor, org_admin, leader_user):
    assert list(teams_visible_to(town_admin)) == [team]
    assert list(teams_visible_to(other_town_admin)) == []  # cross-region: not seen
    assert list(teams_visible_to(supervisor)) == [team]
    assert list(teams_visible_to(org_admin)) == [team]
    assert list(teams_visible_to(leader_user)) == [team]


def test_town_admin_may_look_but_not_manage(team, town_admin, volunteer):
    with pytest.raises(errors.NotManager):
        services.team_member_add(actor=town_admin, team=team, resident=volunteer())


# --------------------------------------------------------------------------------------------- projects


def test_project_sign_up_and_log(team, leader_user, volunteer, django_user_model):
    project = services.project_create(
        actor=leader_user, team=team, title="守护桑榆", description="探访空巢老人", places_wanted=1
    )
    a, b = volunteer(), volunteer()
    user_a = django_user_model.objects.create_user(username="13600000010", password="x-Tb-2026-pass", resident=a)
    services.project_signup_add(actor=user_a, project=project, resident=a)
    with pytest.raises(errors.ProjectFull):
        services.project_signup_add(actor=leader_user, project=project, resident=b)
    assert ProjectSignup.objects.count() == 1
    log = services.project_log_add(
        actor=leader_user, project=project, day=timezone.localdate(), text="探访了5位老人", people_reached=5
    )
    assert log.people_reached == 5
    with pytest.raises(errors.BadName):
        services.project_log_add(actor=leader_user, project=project, day=timezone.localdate(), text="  ")
    with pytest.raises(errors.FutureDay):
        services.project_log_add(
            actor=leader_user, project=project, day=timezone.localdate() + dt.timedelta(days=1), text="未来"
        )
    with pytest.raises(errors.BadNumber):
        services.project_log_add(
            actor=leader_user, project=project, day=timezone.localdate(), text="x", people_reached=-1
        )
    assert project.logs.count() == 1
    services.project_status_set(actor=leader_user, project=project, status="closed")
    with pytest.raises(errors.ProjectClosed):
        services.project_signup_add(actor=leader_user, project=project, resident=b)


# --------------------------------------------------------------------------------------------- competition


def test_competition_scoring_and_ranking(team, org_admin, supervisor, make_staff, city, leader_user, volunteer):
    p1 = services.project_create(actor=org_admin, team=team, title="守护桑榆")
    p2 = services.project_create(actor=org_admin, team=team, title="买菜帮帮忙")
    p3 = services.project_create(actor=org_admin, team=team, title="无人评分")
    judges = [make_staff("city_supervisor", region=city, name=f"评委{i}") for i in range(2)]
    comp = services.competition_create(
        actor=supervisor, title="志愿服务项目大赛", year=2026, criteria=["成效", "创新"], judges=judges
    )
    noms = [services.nomination_add(actor=org_admin, competition=comp, project=p) for p in (p1, p2, p3)]
    with pytest.raises(errors.AlreadyNominated):
        services.nomination_add(actor=org_admin, competition=comp, project=p1)
    points = {(0, 0): 90, (0, 1): 70, (1, 0): 80, (1, 1): 80}  # p1: 90,80 / 70,80; p2: 60s
    for (j, c), value in points.items():
        services.score_set(judge=judges[j], nomination=noms[0], criterion=comp.criteria[c], points=value)
        services.score_set(judge=judges[j], nomination=noms[1], criterion=comp.criteria[c], points=value - 20)
    services.score_set(judge=judges[0], nomination=noms[1], criterion="成效", points=75)  # a judge changes their mind
    assert Score.objects.count() == 8
    results = competition_results(comp)
    assert [r.nomination.project.title for r in results] == ["守护桑榆", "买菜帮帮忙", "无人评分"]
    assert [r.rank for r in results] == [1, 2, 3]
    assert results[0].mean == Decimal("80.00") and results[1].mean == Decimal("61.25") and results[2].mean is None
    services.competition_close(actor=supervisor, competition=comp)
    with pytest.raises(errors.CompetitionClosed):
        services.score_set(judge=judges[0], nomination=noms[0], criterion="成效", points=10)
    assert Score.objects.get(nomination=noms[0], judge=judges[0], criterion="成效").points == 90


def test_score_bad_input(team, org_admin, supervisor, make_staff, city, leader_user):
    project = services.project_create(actor=org_admin, team=team, title="守护桑榆")
    judge = make_staff("city_supervisor", region=city, name="评委")
    comp = services.competition_create(
        actor=supervisor, title="大赛", year=2026, criteria=["成效"], judges=[judge, leader_user]
    )
    nom = services.nomination_add(actor=org_admin, competition=comp, project=project)
    with pytest.raises(errors.BadPoints):
        services.score_set(judge=judge, nomination=nom, criterion="成效", points=101)
    with pytest.raises(errors.BadPoints):
        services.score_set(judge=judge, nomination=nom, criterion="成效", points=-1)
    with pytest.raises(errors.BadCriterion):
        services.score_set(judge=judge, nomination=nom, criterion="颜值", points=50)
    with pytest.raises(errors.NotAJudge):
        services.score_set(judge=supervisor, nomination=nom, criterion="成效", points=50)
    with pytest.raises(errors.OwnTeam) as exc:  # the team's leader is a judge: not of their own team
        services.score_set(judge=leader_user, nomination=nom, criterion="成效", points=100)
    assert exc.value.code == "teams.own_team"
    assert Score.objects.count() == 0
    with pytest.raises(errors.BadCriteria):
        services.competition_create(actor=supervisor, title="空", year=2026, criteria=[], judges=[judge])
    with pytest.raises(errors.BadCriteria):
        services.competition_create(actor=supervisor, title="重", year=2026, criteria=["a", "a"], judges=[judge])


# --------------------------------------------------------------------------------------------- database


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE teams_score SET points = 101",
        "INSERT INTO teams_score (nomination_id, judge_id, criterion, points, created_at, updated_at)"
        " SELECT nomination_id, judge_id, criterion, 5, created_at, updated_at FROM teams_score",
        "UPDATE teams_groupevent SET ends_at = starts_at",
        "UPDATE teams_groupevent SET capacity = 0",
        "UPDATE teams_teammember SET left_on = joined_on - 1",
        "INSERT INTO teams_teammember (team_id, resident_id, role, joined_on, created_at)"
        " SELECT team_id, resident_id, 'member', joined_on, created_at FROM teams_teammember",
    ],
)
def test_database_refuses(team, org_admin, supervisor, make_staff, city, past_event, sql):
    project = services.project_create(actor=org_admin, team=team, title="守护桑榆")
    judge = make_staff("city_supervisor", region=city, name="评委")
    comp = services.competition_create(actor=supervisor, title="大赛", year=2026, criteria=["成效"], judges=[judge])
    nom = services.nomination_add(actor=org_admin, competition=comp, project=project)
    services.score_set(judge=judge, nomination=nom, criterion="成效", points=50)
    if connection.vendor == "sqlite":
        sql = sql.replace("joined_on - 1", "date(joined_on, '-1 day')")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


def test_competition_requires_a_closing_time():
    with pytest.raises(IntegrityError), transaction.atomic():
        Competition.objects.create(title="x", year=2026, criteria=["a"], status="closed")


def test_event_bad_input(team, org_admin, supervisor, youth_league, make_staff, town, leader):
    start = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(errors.BadEventTime):
        services.event_create(actor=org_admin, team=team, title="x", starts_at=start, ends_at=start, capacity=5)
    with pytest.raises(errors.BadNumber):
        services.event_create(
            actor=org_admin, team=team, title="x", starts_at=start, ends_at=start + dt.timedelta(hours=1), capacity=0
        )
    league_admin = make_staff("partner_admin", region=town, name="团委")
    services.organisation_staff_add(actor=supervisor, organisation=youth_league, user=league_admin)
    other_team = services.team_create(
        actor=league_admin, organisation=youth_league, name="青年队", level="town", region=town, leader=leader
    )
    project = services.project_create(actor=league_admin, team=other_team, title="买菜帮帮忙")
    with pytest.raises(errors.TeamRequired):
        services.event_create(
            actor=org_admin,
            team=team,
            project=project,
            title="x",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            capacity=5,
        )
    assert GroupEvent.objects.count() == 0


# --------------------------------------------------------------------------------------------- withdrawing a sign-up


def live_signups() -> int:
    return EventSignup.objects.filter(withdrawn_at__isnull=True).count()


@pytest.fixture
def own_signup(future_event, volunteer, django_user_model):
    person = volunteer(name="退出者")
    user = django_user_model.objects.create_user(username="13600000011", password="x-Tb-2026-pass", resident=person)
    signup = services.event_signup_add(actor=user, event=future_event, resident=person)
    return user, signup


def test_volunteer_withdraws_their_own_sign_up_and_may_sign_up_again(future_event, own_signup):
    user, signup = own_signup
    done = services.event_signup_withdraw(actor=user, signup=signup)
    assert done.withdrawn_at is not None
    assert EventSignup.objects.count() == 1 and live_signups() == 0  # the row is kept, marked withdrawn
    again = services.event_signup_add(actor=user, event=future_event, resident=signup.resident)
    assert again.pk != signup.pk and live_signups() == 1


def test_leader_withdraws_a_sign_up(own_signup, leader_user):
    _user, signup = own_signup
    services.event_signup_withdraw(actor=leader_user, signup=signup)
    assert live_signups() == 0


def test_withdraw_refused_for_another_volunteer_and_other_organisation(
    own_signup, volunteer, django_user_model, youth_league, supervisor, make_staff, town
):
    _user, signup = own_signup
    someone = volunteer()
    other = django_user_model.objects.create_user(username="13600000012", password="x-Tb-2026-pass", resident=someone)
    league = make_staff("partner_admin", region=town, name="团委")
    services.organisation_staff_add(actor=supervisor, organisation=youth_league, user=league)
    before = written()
    for actor in (other, league):
        with pytest.raises(errors.NotManager) as exc:
            services.event_signup_withdraw(actor=actor, signup=signup)
        assert exc.value.code == "teams.not_manager"
    assert written() == before and live_signups() == 1


def test_withdraw_twice_is_refused(own_signup):
    user, signup = own_signup
    services.event_signup_withdraw(actor=user, signup=signup)
    signup.refresh_from_db()
    first = signup.withdrawn_at
    with pytest.raises(errors.SignupWithdrawn) as exc:
        services.event_signup_withdraw(actor=user, signup=signup)
    assert exc.value.code == "teams.signup_withdrawn"
    signup.refresh_from_db()
    assert signup.withdrawn_at == first


def test_withdraw_after_the_event_started_is_refused(future_event, own_signup):
    user, signup = own_signup
    before = written()
    with (
        time_machine.travel(future_event.starts_at + dt.timedelta(minutes=1), tick=False),
        pytest.raises(errors.EventStarted) as exc,
    ):
        services.event_signup_withdraw(actor=user, signup=signup)
    assert exc.value.code == "teams.event_started"
    assert written() == before and live_signups() == 1


def test_withdraw_after_the_sheet_is_posted_is_refused(past_event, leader_user, volunteer):
    person = volunteer()
    join(leader_user, past_event, person)
    services.event_sheet_submit(actor=leader_user, event=past_event, rows=[SheetRow(resident=person, minutes=60)])
    signup = EventSignup.objects.get(event=past_event, resident=person)
    before = written()
    with pytest.raises(errors.EventPosted) as exc:
        services.event_signup_withdraw(actor=leader_user, signup=signup)
    assert exc.value.code == "teams.event_posted"
    assert written() == before and live_signups() == 1
