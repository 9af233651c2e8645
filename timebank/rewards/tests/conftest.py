"""Fixtures for the rewards tests: the care world (an elder with a proxy son, two volunteers, the station's
social worker) and helpers to pay a real visit and to give a volunteer service hours."""

# ruff: noqa: F401, F811 - the care fixtures are imported and then requested by name
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest

from timebank.care import services as care
from timebank.care.models import Visit
from timebank.care.tests.conftest import assigned, checked_out, fund, login, person, publish, world
from timebank.ledger import services as ledger
from timebank.ledger.models import Transfer
from timebank.people.models import Resident, User
from timebank.rewards.models import Bar, Entitlement, Falsification, Honour, StarLevelReached

_keys = itertools.count(1)


def rewards_counts() -> dict[str, int]:
    """Rows of every table a rewards service may write: compare before and after a refused request."""
    return {
        m.__name__: m.objects.count()
        for m in (Bar, Entitlement, Falsification, Honour, StarLevelReached, Transfer, Visit)
    }


@pytest.fixture
def paid_visit(world, checked_out) -> Callable[..., Visit]:
    """A visit served and confirmed by the elder's proxy son: ``paid_visit(minutes=60, hours_from_now=2)``."""

    def make(*, minutes: int = 60, day: int = 0, **kw: object) -> Visit:
        start = world.start + dt.timedelta(days=day)
        visit = checked_out(minutes=minutes, start=start, **kw)
        return care.visit_confirm(actor=world.son, visit=visit)

    return make


@pytest.fixture
def serve() -> Callable[[Resident, int], Transfer]:
    """Service hours credited without a visit (as the exchange import does): ``serve(volunteer, minutes)``."""

    def give(volunteer: Resident, minutes: int) -> Transfer:
        credit = ledger.service_credit(
            key=f"rewards-test-serve-{next(_keys)}",
            volunteer=volunteer,
            payer="government",
            elder=None,
            minutes=minutes,
        )
        assert credit.transfer is not None
        return credit.transfer

    return give


@pytest.fixture
def vol(world) -> Resident:
    return world.vol.resident


@pytest.fixture
def town_staff(town_admin) -> User:
    return town_admin
