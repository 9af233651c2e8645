"""Demo step: a year of hours in the demo city, posted through the ledger's services.

Visits are paid the way DOMAIN.md describes: priority elders (重点对象) by the public pool while it has
hours, elders with stored hours sometimes by redeeming them, everyone else by new hours issued by the
government. Volunteers who are children of elders give some hours to their parents; a few donate to the
pool; staff make a pool grant with four eyes; one visit stays disputed (its hours held). At the end the
whole history is sealed into the hash chain.

The history lies in the twelve months before the demo reference day. Postings carry the time they are
made, so the step sets the clock to each visit's time with ``time_machine`` (installed with the
development tools that ``make run`` installs); without it the history is posted at today's date.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from timebank.common.management.demo import DemoContext, demo_step, fingerprint_fields
from timebank.people.models import Relationship, Resident
from timebank.people.selectors import eligibility

from . import selectors, services
from .sealing import seal_transfers

#: Visits per volunteer over the year, by scale (city scale kept lower so seeding stays under 3 minutes).
VISITS_PER_VOLUNTEER = {"tiny": 3.0, "small": 4.0, "city": 1.0}

SERVICES = [
    # (what, coefficient, typical actual minutes)
    ("助餐 送餐上门", "1.0", (45, 60, 75)),
    ("助洁 居家清洁", "1.0", (90, 120, 150)),
    ("陪同就医", "1.0", (120, 180, 240)),
    ("情感慰藉 聊天陪伴", "1.0", (60, 90, 120)),
    ("智能手机使用指导", "1.0", (60, 90)),
    ("防诈骗宣传", "1.0", (60,)),
    ("助浴", "2.0", (60, 90)),
    ("生活照料", "2.0", (90, 120)),
]

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


@contextmanager
def _clock(when: dt.datetime) -> Iterator[None]:
    try:
        import time_machine
    except ImportError:  # production install without dev tools: post at today's date
        with nullcontext():
            yield
        return
    with time_machine.travel(when, tick=False):
        yield


def _moments(ctx: DemoContext, rng: Any, count: int) -> list[dt.datetime]:
    """``count`` visit times over the year before the reference day, daytime, in order."""
    start = dt.datetime.combine(ctx.today - dt.timedelta(days=365), dt.time(0), tzinfo=TZ)
    out = []
    for _ in range(count):
        day = start + dt.timedelta(days=rng.randrange(365))
        out.append(day.replace(hour=rng.choice((8, 9, 10, 14, 15, 16)), minute=rng.choice((0, 15, 30, 45))))
    return sorted(out)


def _elders_by_town(ctx: DemoContext) -> dict[int, list[Resident]]:
    by_town: dict[int, list[Resident]] = {}
    for elder in ctx.elders:
        town_id = elder.home_region.parent_id
        assert town_id is not None
        by_town.setdefault(town_id, []).append(elder)
    return by_town


@demo_step("ledger.history", order=400, description="a year of visits, family transfers, donations and a grant")
def history(ctx: DemoContext) -> None:
    rng = ctx.rng("ledger.history")
    if not ctx.volunteers or not ctx.elders:
        return
    elders_by_town = _elders_by_town(ctx)
    priority = {e.pk for e in ctx.elders if eligibility(e, on=ctx.today).is_priority}
    may_redeem = {e.pk for e in ctx.elders if eligibility(e, on=ctx.today).may_redeem}
    pool = services.system_account("pool")
    visits = int(len(ctx.volunteers) * VISITS_PER_VOLUNTEER.get(ctx.scale.name, 1.0))
    gave: set[int] = set()
    children = {
        r.relative_id: r.resident
        for r in Relationship.objects.filter(kind="child", relative__is_volunteer=True, resident__is_elder=True)
        .select_related("resident")
        .order_by("pk")
    }
    pool_balance = selectors.balance(pool).posted
    for index, when in enumerate(_moments(ctx, rng, visits), start=1):
        volunteer = rng.choice(ctx.volunteers)
        town_id = volunteer.home_region.parent_id
        elder = rng.choice(elders_by_town.get(town_id or 0) or ctx.elders)
        what, coefficient, durations = rng.choice(SERVICES)
        minutes = services.credited_minutes(rng.choice(durations), coefficient)
        payer = "government"
        day = when.date()
        if elder.pk in priority and pool_balance >= minutes and eligibility(elder, on=day).is_priority:
            payer = "pool"
        elif elder.pk in may_redeem and rng.random() < 0.3 and eligibility(elder, on=day).may_redeem:
            held = selectors.resident_balance(elder).available
            if held >= minutes:
                payer = "own"
        with _clock(when):
            credit = services.service_credit(
                key=f"demo-visit-{index:06d}",
                volunteer=volunteer,
                payer=payer,
                elder=elder,
                minutes=minutes,
                memo=what,
                place=elder.home_region,
                ref=f"demo-visit:{index}",
            )
            if payer == "pool":
                pool_balance -= credit.to_volunteer
            ctx.count(f"ledger.visits paid by {payer}")
            # Children who volunteer pass some hours on to their parent now and then.
            parent = children.get(volunteer.pk)
            if parent is not None and volunteer.pk not in gave and rng.random() < 0.5:
                have = selectors.resident_balance(volunteer).available
                if have >= 120:
                    services.family_transfer(
                        key=f"demo-family-{index:06d}",
                        sender=volunteer,
                        recipient=parent,
                        minutes=have // 60 * 30,
                        memo="给父母存时间",
                    )
                    gave.add(volunteer.pk)
                    ctx.count("ledger.family transfers")
            elif rng.random() < 0.03:
                have = selectors.resident_balance(volunteer).available
                if have >= 60:
                    services.donate(
                        key=f"demo-donation-{index:06d}", donor=volunteer, minutes=60, memo="捐给公益时间池"
                    )
                    pool_balance += 60
                    ctx.count("ledger.donations")
    _grant_and_dispute(ctx, rng, priority)
    seals = seal_transfers()
    ctx.count("ledger.seals", len(seals))


def _grant_and_dispute(ctx: DemoContext, rng: Any, priority: set[int]) -> None:
    """A four-eyes pool grant in 石岐街道 and one visit whose hours are held by a complaint."""
    workers = ctx.staff.get("social_worker", [])
    admins = ctx.staff.get("town_admin", [])
    grant_elder = next((e for e in ctx.elders if e.pk in priority), None)
    if workers and admins and grant_elder is not None:
        pool = services.system_account("pool")
        minutes = min(600, selectors.balance(pool).available // 30 * 30)
        if minutes > 0:
            requester = next((u for u in workers if _can_manage(u, grant_elder)), None)
            approver = next((u for u in admins if _can_manage(u, grant_elder)), None)
            if requester is not None and approver is not None:
                grant = services.pool_grant_request(
                    actor=requester, elder=grant_elder, minutes=minutes, reason="独居高龄，冬季增加探访"
                )
                services.pool_grant_approve(actor=approver, grant=grant)
                ctx.count("ledger.pool grants")
    volunteer, elder = rng.choice(ctx.volunteers), rng.choice(ctx.elders)
    services.service_credit(
        key="demo-visit-disputed",
        volunteer=volunteer,
        payer="government",
        elder=elder,
        minutes=120,
        memo="陪同就医（家属投诉：迟到一小时，待社工核实）",
        place=elder.home_region,
        hold=True,
    )
    ctx.count("ledger.held visits")


def _can_manage(user: Any, resident: Resident) -> bool:
    from timebank.people.selectors import can_manage_resident

    return can_manage_resident(user, resident)


fingerprint_fields("ledger.Transfer", ("amount", "kind", "phase", "memo"))  # keys may hold pks
