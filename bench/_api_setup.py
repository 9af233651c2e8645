"""Setup for bench/api_bench.py, run as its own process (``--part i --parts n`` to split the work).

Creates checked-out visits through the care services, exactly as the station pages do it: the town's social
worker publishes a need for an elder of the town, assigns a volunteer, checks the volunteer in at the station
and out 45 minutes later. Every visit is distinct, so each confirmation request of the benchmark confirms (and
pays) a different visit. Windows lie in the coming days (services refuse windows in the past); a volunteer
gets at most one visit a day, so the plausibility rules (overlaps, minutes per day) always pass.

With ``--tokens`` it also creates one API token (read, write) per social worker, via the API's own service.
Writes JSON lines to standard output: {"kind": "visit"|"balance"|"token", ...}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")


def workers() -> list:
    from timebank.people.models import StaffRole

    roles = StaffRole.objects.filter(role=StaffRole.Role.SOCIAL_WORKER, active=True).select_related("user")
    return [r.user for r in roles.order_by("region__code", "pk")]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", type=int, required=True, help="visits in all (over every part)")
    ap.add_argument("--part", type=int, default=0)
    ap.add_argument("--parts", type=int, default=1)
    ap.add_argument("--tokens", action="store_true")
    ap.add_argument("--first-day", type=int, default=1, help="the first visits' day, in days from today")
    args = ap.parse_args()

    import django

    django.setup()
    from django.utils import timezone

    from timebank.api.services import token_create
    from timebank.care import services
    from timebank.care.models import Item
    from timebank.common.errors import DomainError
    from timebank.people.selectors import residents_visible_to

    out = sys.stdout
    staff = workers()
    if args.tokens:
        for user in staff:
            issued = token_create(user=user, name="api bench", scopes=["read", "write"])
            ids = list(residents_visible_to(user).order_by("pk").values_list("pk", flat=True)[:200])
            out.write(json.dumps({"kind": "token", "user": user.pk, "token": issued.secret, "residents": ids}) + "\n")
        return 0

    item = next(
        i
        for i in Item.objects.filter(active=True).order_by("code")
        if not services.item_current_version(i).required_track
    )
    mine = staff[args.part :: args.parts]
    per_worker = -(-args.visits // len(staff))
    tomorrow = timezone.localtime().date() + dt.timedelta(days=args.first_day)
    made = refused = 0
    t0 = time.perf_counter()
    for user in mine:
        scope = residents_visible_to(user)
        elders = list(scope.filter(is_elder=True, is_volunteer=False).order_by("pk"))
        vols = list(scope.filter(is_volunteer=True).order_by("pk"))
        if not elders or not vols:
            continue
        k = attempt = 0
        while k < per_worker and attempt < per_worker * 3:
            elder, vol = elders[attempt % len(elders)], vols[attempt % len(vols)]
            day = tomorrow + dt.timedelta(days=attempt // len(vols))
            attempt += 1
            start = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
            try:
                (need,) = services.need_publish(
                    actor=user, elder=elder, item=item, window_start=start, window_end=start + dt.timedelta(hours=2)
                )
                visit = services.visit_assign(actor=user, need=need, volunteer=vol)
                visit = services.visit_check_in(actor=user, visit=visit, at=start)
                services.visit_check_out(actor=user, visit=visit, at=start + dt.timedelta(minutes=45))
            except DomainError as exc:  # a volunteer who may not serve (age, ban, ...): try the next one
                refused += 1
                if refused <= 5:
                    print(f"refused: {exc.code}", file=sys.stderr)
                continue
            out.write(json.dumps({"kind": "visit", "user": user.pk, "visit": visit.pk}) + "\n")
            k += 1
            made += 1
    print(
        f"part {args.part}: {made} checked-out visits in {time.perf_counter() - t0:.1f} s ({refused} refused)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
