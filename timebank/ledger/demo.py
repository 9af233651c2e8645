"""Demo step: the ledger's own history after the year of visits (which timebank/care/demo.py posts).

Volunteers who are children of elders give some hours to their parents; a few volunteers donate to the
public pool; staff make a pool grant with four eyes. At the end the whole history is sealed into the
hash chain, so ``ledger_verify`` has seals to check.

Postings carry the time they are made, so the demo sets the clock to each moment of its story with
``time_machine`` (:func:`clock`; installed with the development tools that ``make run`` installs).
Without it, the history is posted at today's date.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from timebank.common.management.demo import DemoContext, demo_step, fingerprint_fields
from timebank.people.models import Relationship, Resident
from timebank.people.selectors import eligibility

from . import selectors, services
from .sealing import seal_transfers

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


@contextmanager
def clock(when: dt.datetime) -> Iterator[None]:
    """Run the block as if the time were ``when`` (the demo's story of the past year)."""
    try:
        import time_machine
    except ImportError:  # a production install without the dev tools: post at today's date
        yield
        return
    with time_machine.travel(when, tick=False):
        yield


@demo_step("ledger.history", order=450, description="family transfers, donations and a four-eyes pool grant")
def history(ctx: DemoContext) -> None:
    """After the year of visits (care.history): children who volunteer pass hours to their parents, some
    volunteers donate to the public pool, and staff make a pool grant. Then the history is sealed."""
    rng = ctx.rng("ledger.history")
    if not ctx.volunteers or not ctx.elders:
        return
    priority = {e.pk for e in ctx.elders if eligibility(e, on=ctx.today).is_priority}
    children = list(
        Relationship.objects.filter(kind="child", relative__is_volunteer=True, resident__is_elder=True)
        .select_related("resident", "relative")
        .order_by("pk")
    )
    start = dt.datetime.combine(ctx.today - dt.timedelta(days=90), dt.time(10), tzinfo=TZ)
    for index, link in enumerate(children, start=1):
        have = selectors.resident_balance(link.relative).available
        if have < 120 or rng.random() >= 0.6:
            continue
        with clock(start + dt.timedelta(days=rng.randrange(85), minutes=rng.randrange(480))):
            services.family_transfer(
                key=f"demo-family-{index:06d}",
                sender=link.relative,
                recipient=link.resident,
                minutes=have // 60 * 30,
                memo="给父母存时间",
            )
        ctx.count("ledger.family transfers")
    for index, volunteer in enumerate(ctx.volunteers, start=1):
        if rng.random() >= 0.08 or selectors.resident_balance(volunteer).available < 60:
            continue
        with clock(start + dt.timedelta(days=rng.randrange(85), minutes=rng.randrange(480))):
            services.donate(key=f"demo-donation-{index:06d}", donor=volunteer, minutes=60, memo="捐给公益时间池")
        ctx.count("ledger.donations")
    _grant(ctx, priority)
    seals = seal_transfers()
    ctx.count("ledger.seals", len(seals))


def _grant(ctx: DemoContext, priority: set[int]) -> None:
    """A four-eyes pool grant: a social worker asks, the town administrator approves."""
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


def _can_manage(user: Any, resident: Resident) -> bool:
    from timebank.people.selectors import can_manage_resident

    return can_manage_resident(user, resident)


fingerprint_fields("ledger.Transfer", ("amount", "kind", "phase", "memo"))  # keys may hold pks
