"""Demo step: a year of services in the demo city, each one through the care services.

For every visit the community station (the town administrator of the elder's town stands in for it)
publishes the need, dispatches a volunteer from the same town who is qualified for the item, checks the
volunteer in and out (elders without phones are confirmed by the station), and confirms; most visits are
rated. A few needs are cancelled, a few volunteers do not come, a few visits are disputed and resolved
(paid in full, in part, or not at all), some elders redeem their own stored hours. The demo volunteer,
proxy and elder accounts get their own story (QR check-in by the volunteer, confirmation and rating by
the son), an upcoming visit and open needs nearby, so their pages have something to show.

The clock is set to each moment of the story with ``time_machine`` (see timebank/ledger/demo.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from timebank.common.errors import DomainError
from timebank.common.management.demo import DemoContext, demo_step, fingerprint_fields
from timebank.ledger import selectors as ledger_selectors
from timebank.ledger.demo import TZ, clock
from timebank.people.models import Resident, StaffRole, User
from timebank.people.selectors import policies_frozen

from . import services
from .models import Item, Need, Visit

#: Visits over the year, by scale (the city scale is kept so that seeding stays under three minutes).
VISITS = {"tiny": 60, "small": 900, "city": 2000}
TAGS = ["准时", "耐心", "细心", "热情", "会讲粤语", "专业"]
COMPLAINTS = ["迟到了一个小时", "只做了一半就走了", "态度不好", "没有按约定时间来"]


def _admins_by_town() -> dict[int, User]:
    roles = StaffRole.objects.filter(role=StaffRole.Role.TOWN_ADMIN, active=True).select_related("user")
    return {r.region_id: r.user for r in roles.order_by("pk")}


def _items() -> list[Item]:
    return list(Item.objects.filter(active=True).order_by("code"))


@demo_step("care.history", order=400, description="a year of needs, visits, ratings and disputes")
def history(ctx: DemoContext) -> None:
    rng = ctx.rng("care.history")
    if not ctx.volunteers or not ctx.elders:
        return
    admins = _admins_by_town()
    items = _items()
    certified: dict[str, set[int]] = {k: set(v) for k, v in ctx.extra.get("certified", {}).items()}
    volunteers_by_town: dict[int, list[Resident]] = {}
    for v in ctx.volunteers:
        volunteers_by_town.setdefault(v.home_region.parent_id or 0, []).append(v)
    busy_until: dict[int, dt.datetime] = {}
    start_day = dt.datetime.combine(ctx.today - dt.timedelta(days=365), dt.time(0), tzinfo=TZ)
    count = VISITS.get(ctx.scale.name, 60)
    moments = sorted(
        start_day
        + dt.timedelta(days=rng.randrange(360), hours=rng.choice((8, 9, 10, 14, 15)), minutes=rng.choice((0, 30)))
        for _ in range(count)
    )
    with policies_frozen():
        for index, published in enumerate(moments, start=1):
            elder = rng.choice(ctx.elders)
            town_id = elder.home_region.parent_id or 0
            admin = admins.get(town_id)
            if admin is None:
                continue
            item = rng.choice(items)
            track = item.versions.order_by("-number").first().required_track  # type: ignore[union-attr]
            pool = [
                v
                for v in volunteers_by_town.get(town_id, ctx.volunteers)
                if not track or v.pk in certified.get(track, set())
            ]
            start = published + dt.timedelta(days=rng.choice((1, 2, 3)))
            pool = [v for v in pool if busy_until.get(v.pk, start_day) <= start]
            if not pool:
                ctx.count("care.needs with nobody qualified nearby (skipped)")
                continue
            volunteer = rng.choice(pool)
            try:
                _one_visit(ctx, rng, index, admin, elder, volunteer, item, published, start)
            except DomainError as exc:  # e.g. a redemption the elder could not pay: counted, not hidden
                ctx.count(f"care.refused ({exc.code})")
                continue
            busy_until[volunteer.pk] = start + dt.timedelta(hours=5)
    _demo_accounts_story(ctx, rng)


def _one_visit(
    ctx: DemoContext,
    rng: Any,
    index: int,
    admin: User,
    elder: Resident,
    volunteer: Resident,
    item: Item,
    published: dt.datetime,
    start: dt.datetime,
) -> None:
    version = item.versions.order_by("-number").first()
    assert version is not None
    payer = None
    if rng.random() < 0.25 and ledger_selectors.resident_balance(elder).available >= 4 * 60:
        payer = Need.Payer.OWN
    with clock(published):
        try:
            [need] = services.need_publish(
                actor=admin,
                elder=elder,
                item=item,
                window_start=start,
                window_end=start + dt.timedelta(hours=4),
                payer=payer,
            )
        except DomainError:
            [need] = services.need_publish(
                actor=admin, elder=elder, item=item, window_start=start, window_end=start + dt.timedelta(hours=4)
            )
    ctx.count(f"care.needs paid by {need.payer}")
    roll = rng.random()
    if roll < 0.03:
        with clock(published + dt.timedelta(hours=5)):
            services.need_cancel(actor=admin, need=need, reason="长者住院，取消服务")
        ctx.count("care.needs cancelled")
        return
    with clock(published + dt.timedelta(hours=2)):
        visit = services.visit_assign(actor=admin, need=need, volunteer=volunteer)
    if roll < 0.05:
        with clock(start + dt.timedelta(hours=2)):
            services.visit_no_show(actor=admin, visit=visit, note="志愿者未到")
        ctx.count("care.no-shows")
        return
    actual = max(30, version.default_minutes + rng.choice((-30, -15, 0, 0, 15, 30)))
    with clock(start + dt.timedelta(minutes=10)):
        visit = services.visit_check_in(actor=admin, visit=visit, at=start + dt.timedelta(minutes=10))
    end = start + dt.timedelta(minutes=10 + actual)
    with clock(end):
        visit = services.visit_check_out(actor=admin, visit=visit, at=end)
    if roll < 0.08:
        with clock(end + dt.timedelta(hours=3)):
            dispute = services.visit_dispute(actor=admin, visit=visit, complaint=rng.choice(COMPLAINTS))
        ctx.count("care.disputes")
        if rng.random() < 0.8:
            outcome = rng.choice(("post", "part", "void"))
            held = visit.credited_minutes or 60
            with clock(end + dt.timedelta(days=2)):
                services.dispute_resolve(
                    actor=admin,
                    dispute=dispute,
                    outcome=outcome,
                    reason="社工电话回访双方后决定",
                    minutes=max(30, held // 60 * 30) if outcome == "part" and held > 30 else None,
                )
            ctx.count(f"care.disputes resolved: {outcome}")
        return
    with clock(end + dt.timedelta(hours=1)):
        visit = services.visit_confirm(actor=admin, visit=visit)
        ctx.count("care.visits confirmed")
        if rng.random() < 0.7:
            stars = rng.choice((5, 5, 5, 4, 4, 3))
            services.visit_rate(actor=admin, visit=visit, stars=stars, tags=rng.sample(TAGS, 2))
            ctx.count("care.ratings")


def _demo_accounts_story(ctx: DemoContext, rng: Any) -> None:
    """The demo volunteer serves the demo elder; the son (proxy) confirms and rates; one visit is upcoming."""
    try:
        volunteer = User.objects.get(username="13900000001")
        proxy = User.objects.get(username="13900000002")
        elder_user = User.objects.get(username="13900000003")
    except User.DoesNotExist:
        return
    elder = elder_user.resident
    assert elder is not None and volunteer.resident is not None
    admin = _admins_by_town().get(elder.home_region.parent_id or 0)
    if admin is None:
        return
    with clock(dt.datetime.combine(ctx.today - dt.timedelta(days=200), dt.time(9), tzinfo=TZ)):
        card = services.card_issue(actor=admin, elder=elder)
    chat = Item.objects.get(code="chat")
    for week in range(6):
        start = dt.datetime.combine(ctx.today - dt.timedelta(days=150 - 21 * week), dt.time(15), tzinfo=TZ)
        with clock(start - dt.timedelta(days=2)):
            [need] = services.need_publish(
                actor=proxy,
                elder=elder,
                item=chat,
                window_start=start,
                window_end=start + dt.timedelta(hours=2),
                pref_language="yue",
            )
            visit = services.visit_assign(actor=admin, need=need, volunteer=volunteer.resident)
        with clock(start + dt.timedelta(minutes=5)):
            code = card.token if week % 2 else card.pin
            visit = services.visit_check_in(actor=volunteer, visit=visit, code=code, lat=elder.lat, lon=elder.lon)
        with clock(start + dt.timedelta(minutes=95)):
            visit = services.visit_check_out(actor=volunteer, visit=visit, lat=elder.lat, lon=elder.lon)
        with clock(start + dt.timedelta(hours=3)):
            visit = services.visit_confirm(actor=proxy, visit=visit)
            services.visit_rate(actor=proxy, visit=visit, stars=5, tags=["耐心", "会讲粤语"], comment="妈妈很开心")
            services.visit_rate(actor=volunteer, visit=visit, stars=5, comment="何婆婆讲了很多以前的故事")
        ctx.count("care.demo account visits")
    # Upcoming, relative to the real clock: an assigned visit and open needs near the demo volunteer.
    now = timezone.now()
    soon = (now + dt.timedelta(days=2)).replace(hour=7, minute=0, second=0, microsecond=0)  # 15:00 Beijing
    [need] = services.need_publish(
        actor=proxy,
        elder=elder,
        item=chat,
        window_start=soon,
        window_end=soon + dt.timedelta(hours=2),
        pref_language="yue",
    )
    services.visit_assign(actor=admin, need=need, volunteer=volunteer.resident)
    neighbours = [e for e in ctx.elders if e.home_region_id == elder.home_region_id and e.pk != elder.pk][:3]
    for offset, other in enumerate(neighbours, start=1):
        services.need_publish(
            actor=admin,
            elder=other,
            item=rng.choice(["grocery", "smart_device", "chat"]),
            window_start=soon + dt.timedelta(days=offset),
            window_end=soon + dt.timedelta(days=offset, hours=3),
        )
        ctx.count("care.open needs near the demo volunteer")
    assert Visit.objects.filter(volunteer=volunteer.resident).exists()


fingerprint_fields("care.Need", ("item__code", "payer", "status"))
fingerprint_fields("care.Visit", ("status", "actual_minutes", "credited_minutes"))
