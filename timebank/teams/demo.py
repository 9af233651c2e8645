"""Demo steps: partner organisations, their teams and members, projects, festival events, a competition.

``teams.structure`` (order 300, after the people): the city Red Cross (中山市红十字会) with 16 city-level
teams, 20 school teams and 24 town teams — one per town as counted before the 2021 merger: the 23 current
towns of ``../shared/data/zhongshan_towns.csv`` plus 东升 (merged into 小榄镇 in 2021; its team keeps the
old name and works in 小榄镇's area) — the youth league (团市委) with its project teams, two schools and
two social organisations. The two demo partner admins manage the Red Cross and the youth league. Members
are drawn from the demo volunteers living in each team's area; the demo volunteer (黄嘉欣) leads the
石岐街道 town team. Projects 守护桑榆 (visits to empty-nest elders) and 买菜帮帮忙 (grocery help), with
their records.

``teams.events`` (order 440: after the year of visits, before ``ledger.history`` seals the ledger so the
events' batches are sealed too): festival days of the past year — 3·5 学雷锋日, 重阳节 (2026-10-18) and
12·5 国际志愿者日 (2025) — with sign-ups and attendance sheets posted through the ledger's batch path,
under the festival coefficients the city set for 2025 (an assumed policy version: 重阳节 1.5, the other two
1.2); an event that has ended and waits for its sheet; events to come (国际志愿者日 2026, 学雷锋日 2027),
one of them a school event with a teacher so that students under 18 may join; a closed project
competition with judges' scores and an open one.
Dates are relative to DEMO_REFERENCE_DATE; the clock is set to each moment with ``time_machine``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from timebank.common.errors import DomainError
from timebank.common.management.demo import DemoContext, demo_step, fingerprint_fields
from timebank.common.services import policy_set
from timebank.ledger.demo import TZ, clock
from timebank.people.demo import ACCOUNT
from timebank.people.models import Resident, User
from timebank.people.selectors import age_on
from timebank.places.models import Region, Site

from . import services
from .models import Competition, GroupEvent, Organisation, Project, Team, TeamMember

CITY_TEAMS = (  # 16 city-level Red Cross teams, by speciality
    "应急救护",
    "心理援助",
    "造血干细胞捐献",
    "遗体器官捐献",
    "博爱家园",
    "水上救援",
    "山地救援",
    "医疗卫生",
    "防灾减灾",
    "人道传播",
    "助老服务",
    "助残服务",
    "青少年服务",
    "无偿献血",
    "赈济救灾",
    "物资保障",
)
SCHOOLS = (  # 20 schools with a Red Cross team (town of the school)
    ("中山纪念中学", "南朗街道"),
    ("中山市第一中学", "东区街道"),
    ("中山市华侨中学", "石岐街道"),
    ("中山市实验中学", "西区街道"),
    ("中山市第二中学", "西区街道"),
    ("中山市桂山中学", "五桂山街道"),
    ("中山市龙山中学", "小榄镇"),
    ("中山市东升高中", "小榄镇"),
    ("中山市小榄中学", "小榄镇"),
    ("中山市古镇高级中学", "古镇镇"),
    ("中山市沙溪中学", "沙溪镇"),
    ("中山市三乡中学", "三乡镇"),
    ("中山市坦洲中学", "坦洲镇"),
    ("中山市黄圃中学", "黄圃镇"),
    ("中山市南头中学", "南头镇"),
    ("中山市东凤中学", "东凤镇"),
    ("中山市港口中学", "港口镇"),
    ("中山市三角中学", "三角镇"),
    ("中山职业技术学院", "南区街道"),
    ("中山火炬职业技术学院", "中山港街道"),
)
MERGED_TOWN = ("东升镇", "小榄镇")  # merged into 小榄镇 on 2021-07-19; the seed still counts it
FESTIVAL_COEFFICIENTS = {"重阳节": 1.5, "学雷锋日": 1.2, "国际志愿者日": 1.2}  # assumed demo policy
MEMBERS = {"tiny": 1, "small": 4, "city": 25}  # members besides the leader, per team

fingerprint_fields("teams.Organisation", ("kind", "name", "region__code"))
fingerprint_fields("teams.Team", ("organisation__name", "name", "level", "region__code"))
fingerprint_fields("teams.TeamMember", ("team__name", "resident__id_hash", "role", "joined_on", "left_on"))
fingerprint_fields("teams.Project", ("team__name", "title", "status", "places_wanted"))
fingerprint_fields("teams.ProjectLog", ("project__title", "day", "text", "people_reached"))
fingerprint_fields("teams.GroupEvent", ("team__name", "title", "starts_at", "ends_at", "capacity", "festival"))
fingerprint_fields("teams.EventSignup", ("event__title", "event__starts_at", "resident__id_hash"))
fingerprint_fields("teams.EventSheetRow", ("sheet__event__title", "resident__id_hash", "minutes", "credited_minutes"))
fingerprint_fields("teams.Score", ("nomination__project__title", "judge__username", "criterion", "points"))


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def _user(phone: str) -> User:
    return User.objects.get(username=phone)


def _town_of(ctx: DemoContext) -> dict[int, Region]:
    """community pk → its town."""
    return {c.pk: town for town in ctx.towns for c in ctx.communities_by_town.get(town.pk, [])}


@demo_step("teams.structure", order=300, description="partner organisations, 60 Red Cross teams, projects")
def structure(ctx: DemoContext) -> None:
    rng = ctx.rng("teams.structure")
    assert ctx.city is not None
    if not ctx.volunteers:
        return
    supervisor = _user(ACCOUNT["city_supervisor"].phone)
    red_admin = _user(ACCOUNT["partner_redcross"].phone)
    youth_admin = _user(ACCOUNT["partner_youth"].phone)
    towns = {t.name: t for t in ctx.towns}

    def org(kind: str, name: str, region: Region, admin: User | None = None) -> Organisation:
        made = services.organisation_create(actor=supervisor, kind=kind, name=name, region=region)
        if admin is not None:
            services.organisation_staff_add(actor=supervisor, organisation=made, user=admin)
        ctx.count("teams.organisations")
        return made

    red_cross = org("red_cross", "中山市红十字会", ctx.city, red_admin)
    youth = org("youth_league", "共青团中山市委", ctx.city, youth_admin)
    schools = [org("school", name, towns[where], youth_admin) for name, where in SCHOOLS[:2]]  # 团委 runs school groups
    care_assoc = org("social_org", "中山市长者关爱协会", ctx.city, youth_admin)
    shiqi_sw = org("social_org", "石岐街道社会工作服务中心", towns["石岐街道"], red_admin)

    # volunteers by town, in a stable order; the demo volunteer is kept for her own team
    demo_vol = next((v for v in ctx.volunteers if v.phone.endswith(ACCOUNT["volunteer"].phone)), None)
    town_of = _town_of(ctx)
    by_town: dict[int, list[Resident]] = defaultdict(list)
    for v in ctx.volunteers:
        if v is not demo_vol and v.home_region_id in town_of:
            by_town[town_of[v.home_region_id].pk].append(v)
    everyone = [v for v in ctx.volunteers if v is not demo_vol]
    per_team = MEMBERS.get(ctx.scale.name, 4)
    joined = ctx.today - dt.timedelta(days=400)

    def team(
        organisation: Organisation, admin: User, name: str, level: str, region: Region, leader: Resident | None = None
    ) -> Team | None:
        pool = everyone if region.level == "city" else by_town.get(region.pk, [])
        if leader is None:
            if not pool:  # the tiny test city may have no volunteer in a town: no team there
                ctx.count("teams.teams skipped: no volunteer in the area")
                return None
            leader = rng.choice(pool)
        made = services.team_create(
            actor=admin, organisation=organisation, name=name, level=level, region=region, leader=leader, on=joined
        )
        members = [p for p in rng.sample(pool, min(len(pool), per_team + 1)) if p.pk != leader.pk][:per_team]
        for person in members:
            services.team_member_add(
                actor=admin, team=made, resident=person, on=joined + dt.timedelta(days=rng.randrange(300))
            )
        ctx.count(f"teams.teams.{level}")
        ctx.count("teams.members", 1 + len(members))
        return made

    for speciality in CITY_TEAMS:
        team(red_cross, red_admin, f"中山市红十字会{speciality}志愿服务队", "city", ctx.city)
    for name, town_name in SCHOOLS:
        team(red_cross, red_admin, f"{name}红十字志愿服务队", "school", towns[town_name])
    town_teams: dict[str, Team | None] = {}
    for town in ctx.towns:
        leader = demo_vol if town.name == "石岐街道" else None
        town_teams[town.name] = team(red_cross, red_admin, f"{town.name}红十字志愿服务队", "town", town, leader)
    old, now_in = MERGED_TOWN
    team(red_cross, red_admin, f"{old}红十字志愿服务队（原{old}，现属{now_in}）", "town", towns[now_in])
    for school in schools:
        team(school, youth_admin, f"{school.name}学雷锋志愿服务队", "school", school.region)
    guard = team(youth, youth_admin, "守护桑榆青年志愿服务队", "city", ctx.city)
    grocery = team(youth, youth_admin, "石岐街道买菜帮帮忙青年志愿服务队", "community", towns["石岐街道"])
    team(care_assoc, youth_admin, "长者关爱志愿服务队", "city", ctx.city)
    team(shiqi_sw, red_admin, "石岐街道社工志愿服务队", "community", towns["石岐街道"])
    if demo_vol is not None and grocery is not None:
        services.team_member_add(actor=youth_admin, team=grocery, resident=demo_vol, on=joined)
        ctx.count("teams.members")

    log_start = ctx.today - dt.timedelta(days=330)
    projects = [
        (
            guard,
            youth_admin,
            "守护桑榆",
            "每周探访空巢、独居老人：聊天、读报、检查家中用电用气安全，发现困难及时告诉社区。",
            40,
            ["探访莲峰社区独居老人{n}户，帮两户更换灯泡", "为{n}位空巢老人读报、量血压", "联系社区为{n}户老人加装扶手"],
        ),
        (
            grocery,
            youth_admin,
            "买菜帮帮忙",
            "为行动不便的老人代买菜和日用品，每周二、五上午送到家。",
            20,
            ["代买蔬菜肉类送到{n}户老人家中", "为{n}位老人代购药品和日用品", "春节前为{n}户老人送年货"],
        ),
        (
            town_teams.get("石岐街道"),
            red_admin,
            "博爱家园应急救护进社区",
            "在社区教居民心肺复苏和急救常识，每月一场。",
            15,
            ["在莲峰社区开展心肺复苏培训，{n}位居民参加", "急救知识讲座，{n}人参加"],
        ),
    ]
    made_projects = []
    for owner, admin, title, text, places, logs in projects:
        if owner is None:
            continue
        project = services.project_create(actor=admin, team=owner, title=title, description=text, places_wanted=places)
        if title == "博爱家园应急救护进社区":  # runs with the team's own members, recruits nobody
            services.project_status_set(actor=admin, project=project, status=Project.Status.RUNNING)
        for month in range(0, 11):
            day = log_start + dt.timedelta(days=30 * month + rng.randrange(20))
            with clock(_at(day, 18)):
                services.project_log_add(
                    actor=admin,
                    project=project,
                    day=day,
                    text=rng.choice(logs).format(n=rng.randint(3, 15)),
                    people_reached=rng.randint(3, 15),
                )
            ctx.count("teams.project log entries")
        made_projects.append(project)
        ctx.count("teams.projects")
    ctx.extra["teams.projects"] = made_projects
    ctx.log(
        "        "
        + ", ".join(f"{n} {k.removeprefix('teams.')}" for k, n in sorted(ctx.counts.items()) if k.startswith("teams."))
    )


# --------------------------------------------------------------------------------------------- events


def _sign_up(actor: User, event: GroupEvent, people: list[Resident], ctx: DemoContext) -> list[Resident]:
    done = []
    with clock(event.starts_at - dt.timedelta(days=3)):
        for person in people:
            try:
                services.event_signup_add(actor=actor, event=event, resident=person)
            except DomainError:  # full, barred or under age: the demo skips them as the page would refuse them
                continue
            done.append(person)
            ctx.count("teams.event sign-ups")
    return done


@demo_step("teams.events", order=440, description="festival group events with sheets posted in batches; competition")
def events(ctx: DemoContext) -> None:
    rng = ctx.rng("teams.events")
    red_admin = _user(ACCOUNT["partner_redcross"].phone)
    youth_admin = _user(ACCOUNT["partner_youth"].phone)
    supervisor = _user(ACCOUNT["city_supervisor"].phone)
    teams = list(Team.objects.filter(organisation__name="中山市红十字会", level="town").order_by("name"))
    if not teams:
        return
    policy_set(
        actor=supervisor,
        key="teams.festival_coefficients",
        value=FESTIVAL_COEFFICIENTS,
        effective_from=dt.date(2025, 1, 1),
        note="演示：节日集体活动时长系数（假设值）",
        allow_past=True,
    )
    care_homes = list(Site.objects.filter(kind=Site.Kind.CARE_HOME).order_by("code"))
    festivals = [
        ("国际志愿者日", dt.date(2025, 12, 5), "国际志愿者日社区清洁与探访"),
        ("学雷锋日", dt.date(2026, 3, 5), "学雷锋日便民服务"),
        ("重阳节", dt.date(2026, 10, 18), "重阳节敬老院探访"),
    ]
    chosen = rng.sample(teams, min(len(teams), 6))
    shiqi = next((t for t in teams if t.name.startswith("石岐街道")), teams[0])
    if shiqi not in chosen:
        chosen[0] = shiqi
    for festival, day, title in festivals:
        for team in chosen:
            members = [m.resident for m in TeamMember.objects.filter(team=team, left_on__isnull=True).order_by("pk")]
            start = _at(day, 9)
            event = services.event_create(
                actor=red_admin,
                team=team,
                title=f"{title}（{team.region.name}）",
                site=rng.choice(care_homes) if care_homes and festival == "重阳节" else None,
                place_text="" if festival == "重阳节" else f"{team.region.name}社区服务站",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=3),
                capacity=max(len(members), 1),
                festival=festival,
            )
            ctx.count("teams.events")
            came = _sign_up(red_admin, event, members, ctx)
            rows = []
            for person in came:
                if rng.random() < 0.1:
                    continue  # signed up, did not come
                late = rng.choice((0, 0, 0, 30))
                rows.append(
                    services.SheetRow(
                        resident=person,
                        arrived_at=start + dt.timedelta(minutes=late),
                        left_at=event.ends_at - dt.timedelta(minutes=rng.choice((0, 0, 30))),
                    )
                )
            if rows:
                with clock(event.ends_at + dt.timedelta(hours=2)):
                    services.event_sheet_submit(actor=red_admin, event=event, rows=rows)
                ctx.count("teams.sheets posted (one batch each)")
                ctx.count("teams.attendees credited", len(rows))

    # ended, waiting for its sheet (the demo volunteer leads this team and can fill it in)
    last = _at(ctx.today - dt.timedelta(days=2), 14)
    waiting = services.event_create(
        actor=red_admin,
        team=shiqi,
        title="社区长者生日会",
        place_text="莲峰社区服务站",
        starts_at=last,
        ends_at=last + dt.timedelta(hours=2),
        capacity=20,
    )
    _sign_up(red_admin, waiting, [m.resident for m in TeamMember.objects.filter(team=shiqi, left_on__isnull=True)], ctx)
    ctx.count("teams.events")

    # to come: 国际志愿者日 2026 in every chosen town, and a school 学雷锋日 2027 with a teacher for students
    for team in chosen:
        start = _at(dt.date(2026, 12, 5), 9)
        services.event_create(
            actor=red_admin,
            team=team,
            title=f"国际志愿者日敬老服务（{team.region.name}）",
            place_text=f"{team.region.name}综合养老服务中心",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            capacity=30,
            festival="国际志愿者日",
        )
        ctx.count("teams.events")
    school = Team.objects.filter(organisation__name="中山市红十字会", level="school").order_by("name").first()
    if school is not None:
        start = _at(dt.date(2027, 3, 5), 14)
        event = services.event_create(
            actor=red_admin,
            team=school,
            title="学雷锋日学生探访长者",
            place_text=f"{school.region.name}社区服务站",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            capacity=15,
            festival="学雷锋日",
            guardian_name="陈老师（带队教师）",
        )
        ctx.count("teams.events")
        minors = [
            r
            for r in Resident.objects.filter(is_volunteer=False, is_elder=False, is_proxy=False).order_by("pk")[:200]
            if age_on(r.birth_date, ctx.today) < 18
        ]
        with clock(_at(ctx.today, 10)):
            for student in minors[:5]:
                services.event_signup_add(actor=red_admin, event=event, resident=student)
                ctx.count("teams.students signed up with a teacher")

    _competitions(ctx, rng, supervisor, youth_admin)


def _competitions(ctx: DemoContext, rng: random.Random, supervisor: User, youth_admin: User) -> None:
    projects = list(Project.objects.order_by("title"))
    if not projects:
        return
    judges = [supervisor, *User.objects.filter(staff_roles__role="town_admin").order_by("username")[:2]]
    criteria = ["服务成效", "创新性", "可持续性"]
    with clock(_at(dt.date(2026, 9, 1), 10)):
        closed = services.competition_create(
            actor=supervisor, title="中山市志愿服务项目大赛", year=2026, criteria=criteria, judges=judges
        )
        for project in projects:
            services.nomination_add(actor=supervisor, competition=closed, project=project)
            ctx.count("teams.nominations")
    with clock(_at(dt.date(2026, 9, 20), 15)):
        for nomination in closed.nominations.order_by("pk"):
            base = rng.randint(60, 90)
            for judge in judges:
                for criterion in criteria:
                    services.score_set(
                        judge=judge,
                        nomination=nomination,
                        criterion=criterion,
                        points=max(0, min(100, base + rng.randint(-8, 8))),
                    )
                    ctx.count("teams.scores")
    with clock(_at(dt.date(2026, 9, 30), 17)):
        services.competition_close(actor=supervisor, competition=closed)
    with clock(_at(ctx.today, 9)):
        open_one = services.competition_create(
            actor=youth_admin, title="青年志愿服务项目评选", year=2027, criteria=["服务成效", "青年参与"], judges=judges
        )
        for project in projects[:2]:
            services.nomination_add(actor=youth_admin, competition=open_one, project=project)
            ctx.count("teams.nominations")
    ctx.count("teams.competitions", Competition.objects.count())
    ctx.log(
        "        "
        + ", ".join(f"{n} {k.removeprefix('teams.')}" for k, n in sorted(ctx.counts.items()) if k.startswith("teams."))
    )
