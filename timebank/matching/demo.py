"""Demo step: volunteers' weekly schedules, service radii and preferred services, through the services.

Most volunteers give two to four half-day slots a week (young retirees mornings, working adults evenings
and weekends), a radius around the 1,500 m policy default, and sometimes the services they like; one in
twenty gives no schedule yet (so the ranking's "has not given a weekly schedule" shows up). The demo
volunteer account serves every weekday morning and afternoon, so its suggestions have something to show.
"""

from __future__ import annotations

from timebank.common.management.demo import DemoContext, demo_step, fingerprint_fields

from . import services

fingerprint_fields("matching.Availability", ("volunteer__id_hash", "weekday", "start", "end"))
fingerprint_fields("matching.MatchProfile", ("volunteer__id_hash", "radius_m"))

HALF_DAYS = [("08:30", "12:00"), ("14:00", "17:30"), ("18:30", "21:00")]
RADII = [None, None, None, 1000, 2000, 3000]
LIKED = ["chat", "grocery", "meal", "smart_device", "outing", "cleaning", "anti_fraud"]


@demo_step("matching.schedules", order=420, description="volunteers' weekly schedules, radii and preferences")
def schedules(ctx: DemoContext) -> None:
    rng = ctx.rng("matching.schedules")
    for volunteer in ctx.volunteers:
        if rng.random() < 0.05:
            ctx.count("matching.volunteers without a schedule")
            continue
        age = (ctx.today - volunteer.birth_date).days // 365
        halves = [0, 1] if age >= 55 else [2, 2, 0, 1]
        slots = set()
        for _ in range(rng.randint(2, 4)):
            weekday = rng.randrange(7) if age >= 55 else rng.choice([0, 1, 2, 3, 4, 5, 5, 6, 6])
            start, end = HALF_DAYS[rng.choice(halves) if weekday < 5 else rng.choice([0, 1])]
            slots.add((weekday, start, end))
        services.availability_set(actor=None, volunteer=volunteer, slots=sorted(slots))
        ctx.count("matching.weekly slots", len(slots))
        radius = rng.choice(RADII)
        liked = rng.sample(LIKED, rng.randint(1, 2)) if rng.random() < 0.3 else None
        if radius is not None or liked is not None:
            services.match_profile_set(actor=None, volunteer=volunteer, radius_m=radius, preferred_items=liked)
            ctx.count("matching.profiles")
    _demo_volunteer(ctx)


def _demo_volunteer(ctx: DemoContext) -> None:
    from timebank.people.models import User

    user = User.objects.filter(username="13900000001").select_related("resident").first()
    if user is None or user.resident is None or not user.resident.is_volunteer:
        return
    slots = [(d, start, end) for d in range(5) for start, end in HALF_DAYS[:2]]
    services.availability_set(actor=None, volunteer=user.resident, slots=slots)
    services.match_profile_set(actor=None, volunteer=user.resident, radius_m=2000, preferred_items=["chat"])
