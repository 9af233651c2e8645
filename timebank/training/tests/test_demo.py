"""The training demo: courses in every track, sessions before and after the demo day with waiting lists,
results and the certificates they issued (some ending soon), and targets that add up to the city's."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Sum

from timebank.common.management.demo import DEMO_REFERENCE_DATE
from timebank.people.models import User
from timebank.places.models import Region
from timebank.training.demo import CITY_TARGETS, split_by_population
from timebank.training.models import Certificate, Course, Enrolment, Session, TrainingTarget
from timebank.training.selectors import my_enrolments


def test_split_by_population_adds_up_and_follows_population() -> None:
    towns = [Region(pk=i, population=p) for i, p in enumerate([500_000, 300_000, 150_000, 50_000], 1)]
    parts = split_by_population(900, towns)
    assert sum(parts.values()) == 900
    assert parts == {1: 450, 2: 270, 3: 135, 4: 45}
    odd = split_by_population(7, towns)
    assert sum(odd.values()) == 7 and odd[1] >= odd[2] >= odd[3] >= odd[4]


@pytest.mark.django_db
def test_the_tiny_demo_has_trainings_of_every_kind(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", scale="tiny", seed=7, stdout=io.StringIO())
    assert set(Course.objects.values_list("track", flat=True)) == {"maternity", "domestic", "elderly", "medical"}
    day = DEMO_REFERENCE_DATE
    assert Session.objects.filter(starts_at__date__lt=day).exists()
    assert Session.objects.filter(starts_at__date__gt=day).exists()
    assert Enrolment.objects.filter(status="waiting").exists()
    assert Enrolment.objects.filter(passed=True, certificate__isnull=False).exists()
    assert Enrolment.objects.filter(passed=False).exists() and Enrolment.objects.filter(attended=False).exists()
    assert Certificate.objects.filter(enrolment__isnull=False, valid_until__lte=day + dt.timedelta(days=60)).exists()
    for track, total in CITY_TARGETS.items():
        assert TrainingTarget.objects.get(year=day.year, track=track, region=None).count == total
        towns = TrainingTarget.objects.filter(year=day.year, track=track, region__isnull=False)
        assert towns.count() == 23 and towns.aggregate(n=Sum("count"))["n"] == total
    volunteer = User.objects.get(username="13900000001").resident
    positions = [pos for _e, pos in my_enrolments(volunteer)]
    assert 1 in positions and None in positions  # a waiting place and a seat
    assert Certificate.objects.filter(holder=volunteer, enrolment__isnull=False).exists()
