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
        # exactly ``age`` years old today: the last birthday was 1 to 300 days ago
        anniversary = (
            today.replace(year=today.year - age)
            if (today.month, today.day) != (2, 29)
            else today.replace(year=today.year - age, day=28)
        )
        birth = anniversary - dt.timedelta(days=1 + n % 300)
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


@pytest.fixture
def plain_user(db) -> User:
    """A login with no staff role."""
    return User.objects.create(username=f"plain{next(_seq)}")


@pytest.fixture
def supervisor(make_staff) -> User:
    return make_staff("city_supervisor")


@pytest.fixture
def fund(supervisor):
    """Give a resident ``minutes`` of stored hours (a supervisor's adjustment from the issuance account)."""
    keys = itertools.count(1)

    def give(resident: Resident, minutes: int) -> None:
        from timebank.ledger import services

        services.adjustment_post(
            key=f"fund-{resident.pk}-{next(keys)}-{minutes}",
            account=services.account_for(resident),
            minutes=minutes,
            actor=supervisor,
            reason="opening balance for the test",
        )

    return give


def ledger_counts() -> dict[str, int]:
    """Rows in every ledger table (and notifications): compare before and after a refused request."""
    from timebank.ledger.models import Account, Batch, PoolGrant, Seal, Transfer
    from timebank.notify.models import Notification

    return {
        model.__name__: model.objects.count() for model in (Account, Batch, PoolGrant, Seal, Transfer, Notification)
    }
