"""The teams demo steps on the small city: the seed's structure (16 city, 20 school, 24 town Red Cross teams),
members living in their team's area, one batch per posted festival sheet, a closed competition's results."""

from __future__ import annotations

import pytest

from timebank.common.management.demo import SCALES, DemoContext, discover_steps, run_steps
from timebank.ledger.models import Batch
from timebank.teams.models import Competition, EventSheet, GroupEvent, Team, TeamMember
from timebank.teams.selectors import competition_results

pytestmark = pytest.mark.django_db

#: the people steps the teams steps need (elders and families are not needed and take long)
WANTED = ("places.", "people.volunteers", "people.staff", "people.demo_accounts", "teams.")


def test_teams_demo_structure_and_events() -> None:
    steps = [s for s in discover_steps() if s.name.startswith(WANTED)]
    ctx = DemoContext(seed=11, scale=SCALES["small"], log=lambda _text: None)  # tiny has towns with nobody
    run_steps(ctx, steps)
    red_cross = Team.objects.filter(organisation__name="中山市红十字会")
    assert {level: red_cross.filter(level=level).count() for level in ("city", "school", "town")} == {
        "city": 16,
        "school": 20,
        "town": 24,  # the 23 current towns and 东升 (merged into 小榄镇 in 2021)
    }
    assert red_cross.filter(name__startswith="东升镇", region__name="小榄镇").exists()
    for member in TeamMember.objects.select_related("team__region", "resident__home_region"):
        assert member.resident.home_region.path.startswith(member.team.region.path)
    for team in Team.objects.all():
        assert TeamMember.objects.filter(team=team, role="leader", left_on__isnull=True).exists(), team
    sheets = EventSheet.objects.all()
    assert sheets.exists()
    assert Batch.objects.filter(key__startswith="group-event:").count() == sheets.count()
    chongyang = GroupEvent.objects.filter(festival="重阳节", sheet__isnull=False).first()
    assert chongyang is not None and str(chongyang.coefficient) == "1.50"
    closed = Competition.objects.get(status="closed")
    results = competition_results(closed)
    assert [r.rank for r in results] == sorted(r.rank for r in results) and results[0].mean is not None
