"""Fixtures for the ledger tests: a community, residents of chosen ages, staff."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from timebank.people import idnumber
from timebank.people.models import Resident, User
from timebank.people.services import resident_register, staff_create
from timebank.places.models import Region
from timebank.places.services import region_create

_seq = itertools.count(1)


@pytest.fixture
def community(db) -> Region:
    town = Region.objects.get(code="442000001")  # 石岐街道
    return Region.objects.filter(parent=town).first() or region_create(
        parent=town, code="442000001901", name="测试社区", level="community", lat=22.52, lon=113.38
    )


@pytest.fixture
def make_resident(community):
    def make(name: str = "陈测试", age: int = 40, roles: tuple[str, ...] = ("volunteer",), **flags) -> Resident:
        today = timezone.localdate()
        n = next(_seq)
        birth = dt.date(today.year - age - 1, 1 + n % 12, 1 + n % 28)
        number = idnumber.make("442000", birth, n % 1000)
        while Resident.objects.filter(id_hash=idnumber.keyed_hash(number)).exists():
            n = next(_seq)
            number = idnumber.make("442000", birth, n % 1000)
        return resident_register(actor=None, name=name, id_number=number, home_region=community, roles=roles, **flags)

    return make


@pytest.fixture
def make_staff(community):
    phones = itertools.count(13800138000)

    def make(role: str = "city_supervisor") -> User:
        city = Region.objects.get(code="442000")
        return staff_create(
            actor=None, phone=str(next(phones)), name="工作人员", password="pw-123456-long", role=role, region=city
        )

    return make
