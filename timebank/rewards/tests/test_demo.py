"""The rewards demo step on the tiny city: levels recorded from history, honours in the towns, rewards
within the levels, one bar, and no hours moved by rewards."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from timebank.rewards.models import Bar, Entitlement, Honour, StarLevelReached
from timebank.rewards.selectors import service_minutes_of, star_level, stars_for, thresholds
from timebank.rewards.tasks import record_star_levels

pytestmark = pytest.mark.django_db


def test_the_demo_step_and_the_daily_task():
    out = io.StringIO()
    call_command("seed_demo", scale="tiny", stdout=out)
    assert "rewards.bars=1" in out.getvalue()
    assert StarLevelReached.objects.filter(level=5, voided_at__isnull=True).count() == 1
    assert Entitlement.objects.filter(kind__priority_admission=True).count() == 1
    assert Honour.objects.filter(team__isnull=False).exists() and Honour.objects.filter(person__isnull=False).exists()
    # every recorded level is supported by the history, and every entitlement by the level at its grant
    minutes = service_minutes_of()
    limits = thresholds()
    for row in StarLevelReached.objects.filter(voided_at__isnull=True):
        assert stars_for(minutes.get(row.person_id, 0), limits) >= row.level
    for e in Entitlement.objects.select_related("kind"):
        assert e.stars_at_grant >= e.kind.min_stars
    bar = Bar.objects.get()
    assert bar.person is not None and star_level(bar.person).suspended
    assert record_star_levels() == 0  # the daily task finds nothing new after the demo recorded the levels
