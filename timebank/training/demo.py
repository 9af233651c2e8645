"""Demo steps: training certificates held before the system, then a year of training through the services.

``training.certificates`` (kept from before): certificates some volunteers already held. Assumed rates (no
public figure found): 12 % of volunteers hold an elderly-care (养老护理) certificate, 4 % a medical (医护)
one, 6 % a home-care (居家) one; certificates last three years and some have expired.

``training.courses``: the course catalogue (two courses per track), sessions at the town centres and
community stations over the past year and the next months, enrolment of volunteers of the site's town
(popular sessions get a waiting list, a few people cancel and the first waiting person is promoted),
attendance (about 9 in 10 come), assessment (pass mark 60) and the certificates the passes issue; some of
them end within the expiry warning window. Everything goes through the training services; the moment of
each action is passed as ``at``/``on``. Then the annual targets: the city's 8,000 domestic-service
trainees a year (assumed split: 5,000 居家 and 3,000 母婴) and 900 elderly-care trainees, each split over
the towns by population (largest remainder, so the towns add up to the city). No public 医护 target: none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random

from timebank.common.errors import DomainError
from timebank.common.management.demo import DemoContext, demo_step, fingerprint_fields
from timebank.ledger.demo import TZ
from timebank.people.demo import ACCOUNT
from timebank.people.models import Resident, StaffRole, User
from timebank.places.models import Region, Site

from . import services
from .models import Course, Enrolment, Session
from .services import certificate_issue

RATES = {"elderly": 0.12, "medical": 0.04, "domestic": 0.06}
PREFIX = {"elderly": "YL", "medical": "YH", "domestic": "JZ"}


@demo_step("training.certificates", order=350, description="training certificates for some volunteers")
def certificates(ctx: DemoContext) -> None:
    rng = ctx.rng("training.certificates")
    holders: dict[str, list[int]] = {track: [] for track in RATES}
    serial = 0
    for volunteer in ctx.volunteers:
        for track, rate in RATES.items():
            if rng.random() >= rate:
                continue
            serial += 1
            start = ctx.today - dt.timedelta(days=rng.randrange(30, 4 * 365))
            certificate_issue(
                actor=None,
                holder=volunteer,
                track=track,
                number=f"{PREFIX[track]}-{start.year}-{serial:06d}",
                valid_from=start,
                valid_until=start + dt.timedelta(days=3 * 365),
            )
            holders[track].append(volunteer.pk)
            ctx.count(f"training.certificates.{track}")
    ctx.extra["certified"] = holders


# --------------------------------------------------------------------------------------------- courses …

#: (track, title, teaching hours, certificate months, description)
COURSES = [
    ("maternity", "母婴护理员（初级）", 64, 24, "新生儿护理、产妇护理、母乳喂养指导"),
    ("maternity", "育婴员", 48, 24, "婴幼儿生活照料、早期发展、安全与急救"),
    ("domestic", "家政服务员（居家保洁与烹饪）", 40, 24, "居家保洁、衣物洗涤、家常烹饪、安全用电用气"),
    ("domestic", "居家照护员", 32, 12, "上门探访、助餐助洁、与长者沟通"),
    ("elderly", "养老护理员（初级）", 80, 12, "助浴、翻身与转移、喂食、压疮预防"),
    ("elderly", "失智长者照护", 24, 12, "认知症的表现、沟通与陪伴、防走失"),
    ("medical", "医疗护理员", 120, 24, "生命体征测量、用药协助、康复护理"),
    ("medical", "急救员（红十字救护员）", 16, 36, "心肺复苏、AED、创伤包扎"),
]
#: Sessions and seats by scale. The city scale is kept small enough to seed fast: the demo's
#: 20,000 volunteers are a sample of the city's, so progress against the real targets stays low.
SESSIONS = {"tiny": 14, "small": 60, "city": 180}
TRAINERS = ["李护士长", "陈医生", "黄老师", "梁导师", "何护师", "吴讲师", "郭老师", "苏老师"]
#: The city's yearly targets (DOMAIN.md); the 8,000 domestic-service trainees split 居家/母婴 by assumption.
CITY_TARGETS = {"domestic": 5000, "maternity": 3000, "elderly": 900}


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def _admins_by_town() -> dict[int, User]:
    roles = StaffRole.objects.filter(role=StaffRole.Role.TOWN_ADMIN, active=True).select_related("user")
    return {r.region_id: r.user for r in roles.order_by("pk")}


def split_by_population(total: int, towns: list[Region]) -> dict[int, int]:
    """``total`` over ``towns`` in proportion to population, by largest remainder (the parts add up)."""
    weights = {t.pk: t.population or 1 for t in towns}
    whole = sum(weights.values())
    exact = {pk: total * w / whole for pk, w in weights.items()}
    parts = {pk: int(x) for pk, x in exact.items()}
    rest = total - sum(parts.values())
    for pk in sorted(exact, key=lambda pk: (parts[pk] - exact[pk], pk))[:rest]:
        parts[pk] += 1
    return parts


@demo_step("training.courses", order=350, description="courses, sessions, enrolment, assessment, targets")
def courses(ctx: DemoContext) -> None:
    rng = ctx.rng("training.courses")
    if not ctx.towns or not ctx.volunteers:
        return
    supervisor = ctx.staff["city_supervisor"][0]
    catalogue = [
        services.course_create(
            actor=supervisor,
            track=track,
            title=title,
            teaching_minutes=hours * 60,
            validity_months=months,
            description=text,
        )
        for track, title, hours, months, text in COURSES
    ]
    ctx.count("training.courses", len(catalogue))
    admins = _admins_by_town()
    phone = ACCOUNT["volunteer"].phone[-11:]
    demo_volunteer = next((v for v in reversed(ctx.volunteers) if v.phone.endswith(phone)), None)
    volunteers_by_town: dict[int, list[Resident]] = {}
    for v in ctx.volunteers:
        if v != demo_volunteer:  # the demo volunteer's story is told below
            volunteers_by_town.setdefault(v.home_region.parent_id or 0, []).append(v)
    first_town = ctx.towns[0]
    first_station = ctx.stations.get(ctx.communities_by_town[first_town.pk][0].pk)
    # Towns by population weight; the first town (where the demo accounts live) always gets sessions.
    weights = [t.population or 1 for t in ctx.towns]
    count = SESSIONS.get(ctx.scale.name, 14)
    plans: list[tuple[Region, Site, dt.date]] = []
    for index in range(count):
        town = first_town if index % 5 == 0 else rng.choices(ctx.towns, weights)[0]
        stations = [ctx.stations[c.pk] for c in ctx.communities_by_town.get(town.pk, []) if c.pk in ctx.stations]
        site = ctx.centres.get(town.pk) if rng.random() < 0.6 or not stations else rng.choice(stations)
        if site is None:
            continue
        # two in three in the past year, one in three over the next four months
        offset = rng.randrange(-360, 0) if rng.random() < 0.67 else rng.randrange(35, 150)
        plans.append((town, site, ctx.today + dt.timedelta(days=offset)))
    if first_town.pk in ctx.centres:  # a coming session the demo volunteer can join
        plans.append((first_town, ctx.centres[first_town.pk], ctx.today + dt.timedelta(days=75)))
    if first_station is not None:  # the demo social worker's station: one past, two coming
        plans += [
            (first_town, first_station, ctx.today - dt.timedelta(days=335)),
            (first_town, first_station, ctx.today + dt.timedelta(days=40)),
            (first_town, first_station, ctx.today + dt.timedelta(days=60)),
        ]
    plans.sort(key=lambda p: (p[2], p[1].code))
    for number, (town, site, day) in enumerate(plans):
        course = catalogue[number % len(catalogue)] if number < len(catalogue) else rng.choice(catalogue)
        if site == first_station and day > ctx.today:
            course = catalogue[4]  # 养老护理员: the items that need a certificate
        _run_session(ctx, rng, admins[town.pk], course, site, day, volunteers_by_town.get(town.pk, []))
    if first_station is not None:  # held three days before the demo day; its sheet is still to be filled in
        recent = ctx.today - dt.timedelta(days=3)
        pool = volunteers_by_town.get(first_town.pk, [])
        _run_session(ctx, rng, admins[first_town.pk], catalogue[3], first_station, recent, pool, record=False)
    if demo_volunteer is not None:
        _demo_volunteer_story(ctx, admins[first_town.pk], catalogue, first_station, demo_volunteer)
    _targets(ctx, supervisor)


def _run_session(
    ctx: DemoContext,
    rng: random.Random,
    admin: User,
    course: Course,
    site: Site,
    day: dt.date,
    pool: list[Resident],
    *,
    record: bool = True,
) -> None:
    start = _at(day, rng.choice([9, 9, 14]))
    days = max(1, course.teaching_minutes // (6 * 60) // 2)
    capacity = rng.choice([20, 24, 30, 30, 40])
    session = services.session_create(
        actor=admin,
        course=course,
        site=site,
        trainer=rng.choice(TRAINERS),
        capacity=capacity,
        starts_at=start,
        ends_at=start + dt.timedelta(days=days - 1, hours=6),
    )
    ctx.count("training.sessions")
    # demand: most sessions fill two thirds to all seats; one in four is oversubscribed (a waiting list)
    wanted = int(capacity * (rng.uniform(1.05, 1.3) if rng.random() < 0.25 else rng.uniform(0.6, 1.0)))
    people = rng.sample(pool, min(wanted, len(pool)))
    asked = start - dt.timedelta(days=30)
    rows = services.enrolments_create(actor=admin, session=session, residents=people, at=asked) if people else []
    ctx.count("training.enrolments", len(rows))
    ctx.count("training.waiting", sum(1 for e in rows if e.status == "waiting"))
    # a few cancel a week before; the first person waiting takes the seat
    leaving = [e for e in rows if e.status == "enrolled" and rng.random() < 0.06]
    for e in leaving:
        services.enrolment_cancel(actor=admin, enrolment=e, at=start - dt.timedelta(days=7))
    ctx.count("training.cancelled", len(leaving))
    if day >= ctx.today or not record:
        return
    enrolled = list(
        Enrolment.objects.filter(session=session, status="enrolled").select_related("resident").order_by("pk")
    )
    after = session.ends_at + dt.timedelta(hours=1)
    present = {e.resident: rng.random() < 0.9 for e in enrolled}
    services.attendance_record(actor=admin, session=session, attendance=present, at=after)
    scores = {person: int(min(100, max(30, rng.gauss(76, 13)))) for person, came in present.items() if came}
    done = services.assessment_record(
        actor=admin, session=session, scores=scores, on=session.ends_at.astimezone(TZ).date(), at=after
    )
    ctx.count("training.attended", len(scores))
    ctx.count(f"training.passed.{course.track}", sum(1 for e in done if e.passed))


def _demo_volunteer_story(
    ctx: DemoContext, admin: User, catalogue: list[Course], station: Site | None, volunteer: Resident
) -> None:
    """The demo volunteer passed 失智长者照护 eleven months ago (12 months: it ends soon), is enrolled in a
    session next month and waits for a full one."""
    if station is None:
        return
    start = _at(ctx.today - dt.timedelta(days=330), 9)
    past = services.session_create(
        actor=admin,
        course=catalogue[5],
        site=station,
        trainer="何护师",
        capacity=12,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=6),
    )
    services.enrolment_create(actor=admin, session=past, resident=volunteer, at=start - dt.timedelta(days=9))
    after = past.ends_at + dt.timedelta(hours=1)
    services.attendance_record(actor=admin, session=past, attendance={volunteer: True}, at=after)
    services.assessment_record(actor=admin, session=past, scores={volunteer: 86}, on=start.date(), at=after)
    coming = list(
        Session.objects.filter(site=station, starts_at__gt=_at(ctx.today, 0), status="open").order_by("starts_at")
    )
    if coming:
        with contextlib.suppress(DomainError):  # already drawn for it by chance
            services.enrolment_create(actor=admin, session=coming[0], resident=volunteer, at=_at(ctx.today, 10))
    full_start = _at(ctx.today + dt.timedelta(days=50), 14)
    full = services.session_create(
        actor=admin,
        course=catalogue[6],
        site=station,
        trainer="陈医生",
        capacity=2,
        starts_at=full_start,
        ends_at=full_start + dt.timedelta(hours=6),
    )
    neighbours = [v for v in ctx.volunteers if v.home_region_id == volunteer.home_region_id and v != volunteer][:3]
    for i, person in enumerate([*neighbours[:2], volunteer, *neighbours[2:]]):
        services.enrolment_create(
            actor=admin, session=full, resident=person, at=_at(ctx.today, 9) + dt.timedelta(minutes=i)
        )
    ctx.count("training.demo volunteer sessions", 3)


def _targets(ctx: DemoContext, supervisor: User) -> None:
    year = ctx.today.year
    for track, total in CITY_TARGETS.items():
        services.target_set(actor=supervisor, year=year, track=track, region=None, count=total)
        parts = split_by_population(total, ctx.towns)
        for town in ctx.towns:
            services.target_set(actor=supervisor, year=year, track=track, region=town, count=parts[town.pk])
        ctx.count("training.targets", 1 + len(ctx.towns))


fingerprint_fields("training.Certificate", ("number", "track", "valid_from", "valid_until", "holder__id_hash"))
fingerprint_fields("training.Course", ("track", "title", "teaching_minutes", "validity_months"))
fingerprint_fields("training.Session", ("course__title", "site__code", "capacity", "starts_at", "status"))
fingerprint_fields(
    "training.Enrolment", ("session__site__code", "session__starts_at", "resident__id_hash", "status", "score")
)
fingerprint_fields("training.TrainingTarget", ("year", "track", "region__code", "count"))
