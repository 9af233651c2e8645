# mypy: ignore-errors
# (a test helper like the rest of tests/, which mypy skips; it is reached through timebank/conftest.py)
"""factory_boy factories for people; residents are made through the service, never saved directly."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import factory
from django.utils import timezone

from timebank.people import idnumber
from timebank.people import services as people_services
from timebank.people.models import Resident

_seq = itertools.count(1)


def next_seq() -> int:
    return next(_seq)


def birth_date_for_age(age: int, *, on: dt.date | None = None) -> dt.date:
    """A birth date that makes someone exactly ``age`` on ``on`` (their birthday was yesterday)."""
    day = on or timezone.localdate()
    before = day - dt.timedelta(days=1)
    try:
        return before.replace(year=before.year - age)
    except ValueError:  # 29 February
        return before.replace(year=before.year - age, day=28)


def _birth(o: Any) -> dt.date:
    return birth_date_for_age(o.age)


class ResidentFactory(factory.Factory):
    """A resident registered through ``people.services.resident_register`` (actor=None, the system).

    ``age`` (a parameter) sets the birth date; the ID number is built from it with a fresh sequence.
    """

    class Meta:
        model = Resident

    class Params:
        age = 40
        birth = factory.LazyAttribute(_birth)

    actor = None
    name = factory.Sequence(lambda n: f"居民{n}")
    id_number = factory.LazyAttribute(lambda o: idnumber.make("442000", o.birth, next_seq() % 1000))
    home_region = None  # required: pass a community
    phone = ""

    @classmethod
    def _create(cls, model_class: type[Resident], *args: Any, **kwargs: Any) -> Resident:
        if kwargs.get("home_region") is None:
            raise ValueError("ResidentFactory needs home_region=<community>")
        return people_services.resident_register(**kwargs)

    @classmethod
    def _build(cls, model_class: type[Resident], *args: Any, **kwargs: Any) -> Resident:
        raise NotImplementedError("residents are only created through the service")
