"""Fixtures for the matching tests: the care world (an elder, volunteers, a social worker) plus helpers
to place volunteers on the map, give them a schedule and publish needs at a fixed local time tomorrow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from timebank.care import services as care_services
from timebank.care.models import Need
from timebank.care.tests.conftest import fund, login, person, publish, world  # noqa: F401 - fixtures
from timebank.matching import selectors, services
from timebank.people.models import Resident
from timebank.places.geo import offset

ELDER_LAT, ELDER_LON = 22.523, 113.379  # the 莲峰社区 community centre, where the world's elder lives
ALL_WEEK = [(d, "07:00", "21:00") for d in range(7)]


@pytest.fixture(autouse=True)
def _fresh_index() -> None:
    selectors._INDEX.clear()


@pytest.fixture
def tomorrow_at() -> Callable[..., dt.datetime]:
    def at(hour: int = 10, minute: int = 0, days: int = 1) -> dt.datetime:
        day = timezone.localdate() + dt.timedelta(days=days)
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    return at


@pytest.fixture
def volunteer(person) -> Callable[..., Resident]:  # noqa: F811
    """``volunteer(north_m=800, sex="F", languages=["yue"], slots=ALL_WEEK, radius_m=None)``."""

    def make(
        *,
        north_m: float = 0,
        east_m: float = 0,
        slots: list[Any] | None = ALL_WEEK,
        radius_m: int | None = None,
        age: int = 35,
        **kw: Any,
    ) -> Resident:
        lat, lon = offset(ELDER_LAT, ELDER_LON, north_m, east_m)
        kw.setdefault("languages", ["yue", "cmn"])
        v = person(age=age, roles=["volunteer"], lat=round(lat, 6), lon=round(lon, 6), **kw)
        if slots is not None:
            services.availability_set(actor=None, volunteer=v, slots=slots)
        if radius_m is not None:
            services.match_profile_set(actor=None, volunteer=v, radius_m=radius_m)
        return v

    return make


@pytest.fixture
def need_at(world, publish, tomorrow_at) -> Callable[..., Need]:  # noqa: F811
    def make(*, hour: int = 10, hours: float = 2, **kw: Any) -> Need:
        return publish(start=tomorrow_at(hour), hours=hours, **kw)

    return make


@pytest.fixture
def serve(world) -> Callable[..., None]:  # noqa: F811
    """Record a confirmed visit of ``volunteer`` to the world's elder (the history behind continuity)."""

    def make(volunteer: Resident, *, times: int = 1, stars: int | None = None) -> None:
        from timebank.people.models import User

        vol_user = User.objects.filter(resident=volunteer).first()
        if vol_user is None:
            from timebank.care.tests.conftest import PASSWORD
            from timebank.people.services import login_create
            from timebank.people.tests.factories import next_seq

            if not volunteer.phone:
                volunteer.phone = f"+86136{next_seq():08d}"
                volunteer.save(update_fields=["phone"])
            vol_user = login_create(actor=None, resident=volunteer, password=PASSWORD)
        for k in range(times):
            start = (timezone.now() + dt.timedelta(minutes=30 + 180 * k)).replace(second=0, microsecond=0)
            [need] = care_services.need_publish(
                actor=world.worker,
                elder=world.elder,
                item="chat",
                window_start=start,
                window_end=start + dt.timedelta(hours=2),
                payer="government",
            )
            visit = care_services.visit_assign(actor=world.worker, need=need, volunteer=volunteer)
            visit = care_services.visit_check_in(actor=world.worker, visit=visit, at=start)
            visit = care_services.visit_check_out(actor=vol_user, visit=visit, at=start + dt.timedelta(minutes=60))
            visit = care_services.visit_confirm(actor=world.worker, visit=visit)
            if stars is not None:
                care_services.visit_rate(actor=world.worker, visit=visit, stars=stars)

    return make
