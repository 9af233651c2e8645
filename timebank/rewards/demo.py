"""Demo step: star levels, honours, rewards and one bar, after the year of visits and the ledger's history.

A year of visits gives each volunteer a few hours, so nobody would have a star. Long-serving volunteers
bring their earlier service with them: records moved over from the national volunteer system, posted as one
ledger batch (as the exchange import does). Then the step records the star levels reached, grants honours in
every town (by that town's administrator), records rewards, and one falsification with its bar.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict

from timebank.care.models import Visit
from timebank.common.management.demo import DemoContext, demo_step, fingerprint_fields
from timebank.ledger import services as ledger
from timebank.ledger.demo import clock
from timebank.ledger.models import Transfer
from timebank.people.models import Resident, StaffRole, User
from timebank.teams.models import Team

from . import selectors, services
from .models import Honour, RewardKind

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")

#: Hours of earlier service brought over by the long-serving volunteers (under the 1,500 h balance cap).
HISTORY_HOURS = (1200, 120, 150, 320, 380, 640, 700, 1060)
CITATIONS = (
    "长期坚持探访辖区独居长者，风雨无阻。",
    "带领社区志愿者开展助餐、助洁服务，深受长者好评。",
    "耐心教长者使用智能手机，防范电信诈骗。",
    "重阳节组织上门陪伴活动，服务时长名列前茅。",
)


def _town(person: Resident) -> int:
    return person.home_region.parent_id or 0


def _town_admins() -> dict[int, User]:
    admins: dict[int, User] = {}
    for role in StaffRole.objects.filter(role=StaffRole.Role.TOWN_ADMIN, active=True).select_related("user", "region"):
        admins.setdefault(role.region_id, role.user)
    return admins


@demo_step(
    "rewards.stars",
    order=480,
    description="earlier service brought over, star levels, honours (people and teams), rewards, a bar",
)
def stars(ctx: DemoContext) -> None:
    rng = ctx.rng("rewards.stars")
    if not ctx.volunteers:
        return
    admins = _town_admins()
    now = dt.datetime.combine(ctx.today, dt.time(10), tzinfo=TZ)
    # 1. earlier service of about 4 % of the volunteers (at least 8), moved over in one batch in spring
    people = [v for v in ctx.volunteers if _town(v) in admins]
    chosen = sorted(rng.sample(people, min(len(people), max(8, len(people) // 25))), key=lambda v: v.pk)
    issuance = ledger.system_account("issuance")
    entries = [
        ledger.BatchEntry(
            str(v.pk),
            issuance,
            ledger.account_for(v),
            HISTORY_HOURS[i % len(HISTORY_HOURS)] * 60,
            Transfer.Kind.SERVICE_CREDIT,
            memo="历史志愿服务记录（迁入）",
        )
        for i, v in enumerate(chosen)
    ]
    with clock(now - dt.timedelta(days=200)):
        ledger.batch_post(key="demo-rewards-history", entries=entries, description="历史志愿服务记录迁入")
    ctx.count("rewards.volunteers with earlier service", len(entries))
    _five_star(chosen[0], now)
    # 2. star levels, recorded from the history as the daily task does
    with clock(now):
        ctx.count("rewards.star levels recorded", services.star_levels_record(on=ctx.today))
        levels = selectors.service_minutes_of([v.pk for v in ctx.volunteers])
        limits = selectors.thresholds(on=ctx.today)
        by_town: dict[int, list[Resident]] = defaultdict(list)
        for v in ctx.volunteers:
            if _town(v) in admins:
                by_town[_town(v)].append(v)
        # 3. honours: the one or two volunteers who served most in each town
        for town_id, members in sorted(by_town.items()):
            members.sort(key=lambda v: (-levels.get(v.pk, 0), v.pk))
            for rank, person in enumerate(members[: 1 + (rng.random() < 0.5)]):
                if not levels.get(person.pk):
                    continue
                services.honour_grant(
                    actor=admins[town_id],
                    person=person,
                    kind=Honour.Kind.EXCELLENT_VOLUNTEER,
                    title=f"{ctx.today.year}年度优秀志愿者",
                    year=ctx.today.year,
                    citation=CITATIONS[(town_id + rank) % len(CITATIONS)],
                )
                ctx.count("rewards.honours")
        for v in chosen:
            if selectors.stars_for(levels.get(v.pk, 0), limits) == 5:
                services.honour_grant(
                    actor=admins[_town(v)],
                    person=v,
                    kind=Honour.Kind.FIVE_STAR,
                    title=f"{ctx.today.year}年五星志愿者",
                    year=ctx.today.year,
                    citation="累计志愿服务超过1500小时。",
                )
                ctx.count("rewards.honours")
        # the town's own volunteer team, in about half of the towns
        for team in Team.objects.filter(level=Team.Level.TOWN, active=True, region_id__in=list(admins)).order_by("pk"):
            if rng.random() < 0.5:
                services.honour_grant(
                    actor=admins[team.region_id],
                    team=team,
                    kind=Honour.Kind.EXCELLENT_TEAM,
                    title=f"{ctx.today.year}年度优秀志愿服务团队",
                    year=ctx.today.year,
                    citation="组织重阳节、学雷锋日等集体志愿服务活动，服务长者众多。",
                )
                ctx.count("rewards.team honours")
        # 4. rewards: every volunteer with a star gets the bus-card benefit on request (about half), 3★+ the check
        kinds = list(RewardKind.objects.filter(active=True).order_by("min_stars"))
        for v in chosen:
            stars_now = selectors.stars_for(levels.get(v.pk, 0), limits)
            admin = admins[_town(v)]
            for kind in kinds:
                if kind.min_stars <= stars_now and (kind.min_stars >= 3 or rng.random() < 0.5):
                    services.entitlement_grant(actor=admin, resident=v, kind=kind, note="本人申请")
                    ctx.count("rewards.entitlements")
    # 5. one falsification: a visit found to have been signed in for a volunteer who never came
    _one_bar(ctx, admins, now)


def _five_star(veteran: Resident, now: dt.datetime) -> None:
    """The first long-serving volunteer: 1,200 + 350 hours brought over (5★), 700 of them given to the public
    pool in between, so the balance stays under the cap."""
    issuance = ledger.system_account("issuance")
    with clock(now - dt.timedelta(days=199)):
        ledger.donate(key="demo-rewards-veteran-gift", donor=veteran, minutes=700 * 60, memo="捐给公益时间池")
    extra = ledger.BatchEntry(
        str(veteran.pk), issuance, ledger.account_for(veteran), 350 * 60, Transfer.Kind.SERVICE_CREDIT
    )
    with clock(now - dt.timedelta(days=120)):
        ledger.batch_post(
            key="demo-rewards-history-veteran", entries=[extra], description="历史志愿服务记录迁入（补录）"
        )


def _one_bar(ctx: DemoContext, admins: dict[int, User], now: dt.datetime) -> None:
    visit = (
        selectors.counted_visits()
        .filter(volunteer__home_region__parent_id__in=list(admins))
        .select_related("volunteer__home_region")
        .order_by("pk")
        .first()
    )
    if visit is None:
        return
    with clock(now - dt.timedelta(days=30)):
        services.falsification_record(
            actor=admins[_town(visit.volunteer)],
            visit=Visit.objects.get(pk=visit.pk),
            reason="核查发现签到为他人代签，服务未实际发生",
            on=(now - dt.timedelta(days=30)).date(),
        )
    ctx.count("rewards.bars")


fingerprint_fields("rewards.StarLevelReached", ("level", "reached_on", "minutes"))
fingerprint_fields("rewards.Honour", ("kind", "title", "year", "citation"))
fingerprint_fields("rewards.Entitlement", ("stars_at_grant", "note"))
fingerprint_fields("rewards.Bar", ("years", "starts_on", "ends_on", "reason"))
