"""Star levels and honours over the API: read from recorded service, scoped, never set by hand."""

from __future__ import annotations

import pytest
from django.utils import timezone

from timebank.care import services as care
from timebank.common.services import policy_set
from timebank.rewards import services as rewards
from timebank.rewards.models import Honour, StarLevelReached

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_worker(make_staff, other_site):
    return make_staff("social_worker", site=other_site, name="坦洲社工")


def test_star_level_is_read_from_recorded_service_and_cannot_be_set(api, token, world, checked_out, other_worker):
    policy_set(
        actor=None, key="rewards.star_thresholds_hours", value=[1, 2, 3, 4, 5], effective_from=timezone.localdate()
    )
    care.visit_confirm(actor=world.worker, visit=checked_out(minutes=90))
    vol_id = world.vol.resident_id
    level = api.get(f"/rewards/residents/{vol_id}/star-level", token=token(world.worker)).json()
    assert level["stars"] == 1 and level["effective_stars"] == 1 and level["next_at_hours"] == 2
    assert level["recorded_hours"] in ("1.5", 1.5)
    assert api.get(f"/rewards/residents/{vol_id}/star-level", token=token(world.vol)).json()["stars"] == 1
    assert_error(api.get(f"/rewards/residents/{vol_id}/star-level", token=token(other_worker)), 404, "not_found")
    before = (StarLevelReached.objects.count(), Honour.objects.count())
    assert_error(
        api.post(f"/rewards/residents/{vol_id}/star-level", {"stars": 5}, token=token(world.worker)),
        403,
        "rewards.star_level_not_by_hand",
    )
    assert (StarLevelReached.objects.count(), Honour.objects.count()) == before


def test_honours_are_listed_in_the_readers_area(api, token, world, town_admin, other_worker):
    rewards.honour_grant(
        actor=town_admin, kind="award", title="服务之星", year=2026, citation="风雨无阻", person=world.vol.resident
    )
    listed = api.get("/rewards/honours", token=token(world.worker)).json()
    assert [h["title"] for h in listed["items"]] == ["服务之星"] and listed["items"][0]["withdrawn"] is False
    assert api.get("/rewards/honours", token=token(other_worker)).json()["count"] == 0
    assert api.get("/rewards/honours", token=token(world.worker), year=2025).json()["count"] == 0
