"""The rewards pages: the public honour roll (no login, masked names), the volunteer's stars page, and the
staff pages (honours, rewards, falsification with a confirmation step, bars, entitlement look-up)."""

# ruff: noqa: F401, F811 - the care and rewards fixtures are imported and then requested by name
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from timebank.care.tests.conftest import assigned, checked_out, fund, login, person, publish, world
from timebank.ledger.selectors import resident_balance
from timebank.rewards import services
from timebank.rewards.models import Bar, Entitlement, Honour, RewardKind
from timebank.rewards.tests.conftest import paid_visit, rewards_counts, serve, vol

pytestmark = pytest.mark.django_db


def url(name: str, *args: object) -> str:
    return reverse(f"web:{name}", args=args)


@pytest.fixture
def staff_client(client, town_admin):
    client.force_login(town_admin)
    return client


def grant(actor, person, kind="excellent_volunteer", title="优秀志愿者"):  # type: ignore[no-untyped-def]
    return services.honour_grant(
        actor=actor, person=person, kind=kind, title=title, year=timezone.localdate().year, citation="长期陪伴独居长者"
    )


# --------------------------------------------------------------------------------------------- public roll


def test_the_honour_roll_is_public_and_masks_names(client, world, vol, serve, town_admin):
    grant(town_admin, vol)
    serve(vol, 650 * 60)
    services.star_levels_record()
    towns = client.get(url("honours:index"))
    assert towns.status_code == 200 and "石岐街道" in towns.content.decode()
    page = client.get(url("honours:town", "442000001")).content.decode()
    assert "黄*欣" in page and "优秀志愿者" in page and "长期陪伴独居长者" in page
    assert "黄嘉欣" not in page and vol.id_number_masked not in page
    assert vol.phone not in page
    assert 'data-testid="roll-stars"' in page and "★★★<" in page


def test_an_unknown_town_is_404(client):
    assert client.get(url("honours:town", "999")).status_code == 404
    assert client.get(url("honours:town", "442000")).status_code == 404  # the city is not a town


def test_the_home_page_links_the_roll(client, world):
    client.force_login(world.vol)
    assert url("honours:index") in client.get(url("home")).content.decode()


# --------------------------------------------------------------------------------------------- volunteer


def test_my_stars_shows_rewards_and_honours(client, world, vol, serve, town_admin):
    serve(vol, 350 * 60)
    services.entitlement_grant(actor=town_admin, resident=vol, kind=RewardKind.objects.get(code="bus-card-discount"))
    grant(town_admin, vol)
    client.force_login(world.vol)
    page = client.get(url("volunteer:stars")).content.decode()
    assert 'data-stars="2"' in page and "公交卡乘车优惠" in page and "免费健康体检一次" not in page
    assert 'data-testid="my-honours"' in page and 'data-testid="stars-suspended"' not in page


def test_my_stars_shows_the_suspension(client, world, vol, serve, town_admin):
    credit = serve(vol, 120 * 60)
    services.falsification_record(actor=town_admin, transfer=credit, reason="伪造记录")
    client.force_login(world.vol)
    page = client.get(url("volunteer:stars")).content.decode()
    assert 'data-testid="stars-suspended"' in page and 'data-testid="rewards-claimable"' not in page
    home = client.get(url("volunteer:index")).content.decode()  # the button on the volunteer's home says so too
    assert "暂停至" in home


# --------------------------------------------------------------------------------------------- staff


def test_staff_pages_open_for_the_town_admin(staff_client, vol):
    for name, args in [
        ("rewards:index", ()),
        ("rewards:person", (vol.pk,)),
        ("rewards:bars", ()),
        ("rewards:entitlements", ()),
    ]:
        assert staff_client.get(url(name, *args)).status_code == 200, name
    found = staff_client.get(url("rewards:index"), {"q": "黄嘉欣"}).content.decode()
    assert url("rewards:person", vol.pk) in found


def test_other_areas_and_other_roles_are_refused(client, world, vol, paid_visit, other_town_admin, social_worker):
    visit = paid_visit(minutes=60)
    client.force_login(other_town_admin)
    assert client.get(url("rewards:person", vol.pk)).status_code == 404
    assert client.get(url("rewards:falsify_visit", visit.pk)).status_code == 404
    before = rewards_counts()
    response = client.post(
        url("rewards:honour_new", vol.pk), {"kind": "excellent_volunteer", "title": "x", "year": 2026, "citation": "x"}
    )
    assert response.status_code == 404 and rewards_counts() == before
    client.force_login(social_worker)
    assert client.get(url("rewards:index")).status_code == 403
    client.force_login(world.vol)
    assert client.get(url("rewards:index")).status_code == 403
    assert client.get(url("rewards:entitlements")).status_code == 403


def test_granting_an_honour(staff_client, vol):
    data = {"kind": "excellent_volunteer", "title": "优秀志愿者", "year": timezone.localdate().year, "citation": "服务"}
    assert staff_client.post(url("rewards:honour_new", vol.pk), data).status_code == 302
    assert Honour.objects.filter(person=vol).count() == 1


def test_a_star_level_asked_for_by_hand_is_refused(staff_client, vol):
    before = rewards_counts()
    data = {"kind": "star_level", "title": "三星志愿者", "year": timezone.localdate().year, "citation": "满600小时"}
    response = staff_client.post(url("rewards:honour_new", vol.pk), data)
    assert response.status_code == 403
    assert response.context["honour_form"].has_error("kind", "rewards.star_level_not_by_hand")
    assert rewards_counts() == before


def test_bad_honour_input_is_a_400(staff_client, vol):
    before = rewards_counts()
    response = staff_client.post(url("rewards:honour_new", vol.pk), {"kind": "excellent_volunteer", "year": "x"})
    assert response.status_code == 400 and rewards_counts() == before
    response = staff_client.post(
        url("rewards:honour_new", vol.pk), {"kind": "excellent_volunteer", "year": 2026, "title": "", "citation": ""}
    )
    assert response.status_code == 400 and response.context["honour_form"].has_error("title", "rewards.title_required")
    assert rewards_counts() == before


def test_rewards_below_the_level_are_refused_and_revoked_with_a_reason(staff_client, vol, serve):
    serve(vol, 150 * 60)
    priority = RewardKind.objects.get(code="care-home-priority")
    before = rewards_counts()
    response = staff_client.post(url("rewards:entitlement_new", vol.pk), {"kind": priority.pk})
    assert response.status_code == 403 and response.context["entitlement_form"].has_error(
        "kind", "rewards.below_star_level"
    )
    assert rewards_counts() == before
    bus = RewardKind.objects.get(code="bus-card-discount")
    balance = resident_balance(vol)
    assert staff_client.post(url("rewards:entitlement_new", vol.pk), {"kind": bus.pk}).status_code == 302
    assert resident_balance(vol) == balance
    held = Entitlement.objects.get(resident=vol)
    assert staff_client.post(url("rewards:entitlement_revoke", held.pk), {"reason": " "}).status_code == 400
    assert staff_client.post(url("rewards:entitlement_revoke", held.pk), {"reason": "本人放弃"}).status_code == 302
    held.refresh_from_db()
    assert held.revoked_at is not None and held.revoke_reason == "本人放弃"


def test_falsification_has_a_confirmation_step(staff_client, world, vol, paid_visit, fund):
    fund(world.elder, 120)
    visit = paid_visit(minutes=60, payer="own")
    page = staff_client.get(url("rewards:falsify_visit", visit.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert "何惠珍" in body and 'data-testid="reversals"' in body
    before = rewards_counts()
    response = staff_client.post(url("rewards:falsify_visit", visit.pk), {"step": "confirm", "reason": ""})
    assert response.status_code == 400 and rewards_counts() == before
    response = staff_client.post(url("rewards:falsify_visit", visit.pk), {"step": "confirm", "reason": "伪造签到"})
    assert response.status_code == 302
    assert Bar.objects.filter(person=vol).count() == 1 and resident_balance(world.elder).posted == 120
    again = staff_client.get(url("rewards:falsify_visit", visit.pk))
    assert again.status_code == 409 and "rewards.already_falsified" in again.content.decode()
    bars = staff_client.get(url("rewards:bars")).content.decode()
    assert "黄嘉欣" in bars and "伪造签到" in bars


def test_care_home_staff_look_up_priority_admission_in_their_area(
    client, vol, serve, town_admin, social_worker, other_town_admin
):
    serve(vol, 1500 * 60)
    services.entitlement_grant(actor=town_admin, resident=vol, kind=RewardKind.objects.get(code="care-home-priority"))
    client.force_login(social_worker)
    page = client.get(url("rewards:entitlements"), {"priority": "1"}).content.decode()
    assert "黄嘉欣" in page and "公办养老机构优先入住" in page
    client.force_login(other_town_admin)
    assert "黄嘉欣" not in client.get(url("rewards:entitlements")).content.decode()


def test_the_admin_cannot_add_or_change_star_levels(client, superuser, vol, serve):
    serve(vol, 120 * 60)
    services.star_levels_record()
    client.force_login(superuser)
    assert client.get("/admin/rewards/starlevelreached/").status_code == 200
    assert client.get("/admin/rewards/starlevelreached/add/").status_code == 403
    before = rewards_counts()
    response = client.post("/admin/rewards/starlevelreached/add/", {"person": vol.pk, "level": 5})
    assert response.status_code == 403 and rewards_counts() == before
