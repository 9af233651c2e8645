"""Fixtures for the care tests: an elder with a proxy son, volunteers with logins, helpers to drive a visit.

``world`` holds the people; ``publish``, ``assign``, ``checked_in``, ``checked_out`` and ``confirmed`` move
a fresh need along the life of a service (times through the services' ``at=`` arguments, never the clock).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from timebank.care import services
from timebank.care.models import Application, CareEvent, Dispute, ElderCard, Need, Rating, Visit
from timebank.conftest import PASSWORD
from timebank.ledger import services as ledger
from timebank.ledger.models import Transfer
from timebank.people import idnumber
from timebank.people.models import Resident, User
from timebank.people.services import login_create, relationship_create
from timebank.people.tests.factories import birth_date_for_age, next_seq

_keys = itertools.count(1)


def care_counts() -> dict[str, int]:
    """Rows of every table a care service may write: compare before and after a refused request."""
    return {m.__name__: m.objects.count() for m in (Need, Visit, CareEvent, Rating, Dispute, Application, Transfer)} | {
        "live cards": ElderCard.objects.filter(revoked_at__isnull=True).count()
    }


@dataclass
class World:
    elder: Resident
    son: User  # the elder's proxy
    vol: User  # a volunteer who speaks Cantonese and Mandarin
    vol2: User  # another volunteer
    worker: User  # the social worker of the elder's station
    start: dt.datetime  # a moment two hours from now, on the minute


@pytest.fixture
def login() -> Callable[[Resident], User]:
    def make(resident: Resident) -> User:
        if not resident.phone:
            resident.phone = f"+86136{next_seq():08d}"
            resident.save(update_fields=["phone"])
        return login_create(actor=None, resident=resident, password=PASSWORD)

    return make


@pytest.fixture
def person(make_resident, community) -> Callable[..., Resident]:
    """``person(age=30, sex="F", roles=["volunteer"])``: like make_resident, with the sex chosen."""

    def make(*, age: int = 30, sex: str | None = None, **kwargs: Any) -> Resident:
        if sex is not None:
            while True:
                n = next_seq() % 1000
                if (n % 2 == 1) == (sex == "M"):
                    break
            kwargs["id_number"] = idnumber.make("442000", birth_date_for_age(age), n)
        return make_resident(age=age, **kwargs)

    return make


@pytest.fixture
def world(make_resident, person, login, social_worker) -> World:
    elder = make_resident(name="何惠珍", age=82, roles=["elder"], lives_alone=True, languages=["yue"])
    son = make_resident(name="梁志明", age=55, roles=["proxy"], phone="13600000002")
    relationship_create(actor=None, resident=elder, relative=son, kind="child", is_proxy=True, consent_note="签字")
    vol = person(name="黄嘉欣", age=27, sex="F", roles=["volunteer"], languages=["yue", "cmn"])
    vol2 = person(name="陈大文", age=35, sex="M", roles=["volunteer"], languages=["cmn"])
    start = (timezone.now() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    return World(elder, login(son), login(vol), login(vol2), social_worker, start)


@pytest.fixture
def fund(supervisor) -> Callable[[Resident, int], None]:
    """Give a resident stored hours (an adjustment by the city supervisor)."""

    def give(resident: Resident, minutes: int) -> None:
        ledger.adjustment_post(
            key=f"care-test-fund-{next(_keys)}",
            account=ledger.account_for(resident),
            minutes=minutes,
            actor=supervisor,
            reason="opening balance for the test",
        )

    return give


@pytest.fixture
def publish(world) -> Callable[..., Need]:
    """One need for the world's elder, published by the social worker (government pays unless told)."""

    def make(
        *, item: str = "chat", start: dt.datetime | None = None, hours: float = 2, actor: User | None = None, **kw: Any
    ) -> Need:
        begin = start or world.start
        kw.setdefault("payer", "government")
        [need] = services.need_publish(
            actor=actor or world.worker,
            elder=kw.pop("elder", world.elder),
            item=item,
            window_start=begin,
            window_end=begin + dt.timedelta(hours=hours),
            **kw,
        )
        return need

    return make


@pytest.fixture
def assigned(world, publish) -> Callable[..., Visit]:
    def make(*, volunteer: User | None = None, **kw: Any) -> Visit:
        need = publish(**kw)
        return services.visit_assign(actor=world.worker, need=need, volunteer=(volunteer or world.vol).resident)

    return make


@pytest.fixture
def checked_out(world, assigned) -> Callable[..., Visit]:
    """A visit checked in by the station at the window's start and out by the volunteer ``minutes`` later."""

    def make(*, minutes: int = 60, **kw: Any) -> Visit:
        visit = assigned(**kw)
        begin = visit.need.window_start
        visit = services.visit_check_in(actor=world.worker, visit=visit, at=begin)
        volunteer = User.objects.get(resident=visit.volunteer)
        return services.visit_check_out(actor=volunteer, visit=visit, at=begin + dt.timedelta(minutes=minutes))

    return make
