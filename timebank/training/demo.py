"""Demo step: training certificates for some volunteers, so the items that need one can be served.

Assumed rates (no public figure found): 12 % of volunteers hold an elderly-care (养老护理) certificate,
4 % a medical (医护) one, 6 % a home-care (居家) one; certificates last three years and some have expired.
"""

from __future__ import annotations

import datetime as dt

from timebank.common.management.demo import DemoContext, demo_step, fingerprint_fields

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


fingerprint_fields("training.Certificate", ("number", "track", "valid_from", "valid_until", "holder__id_hash"))
