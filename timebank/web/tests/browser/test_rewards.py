"""The honour roll (public, no login), the volunteer's stars page and the staff rewards pages in a real
browser, at phone and desktop size, in both modes. Selectors are roles, classes and data-testid attributes."""

from __future__ import annotations

import re

import pytest

from .conftest import DESKTOP, PHONE, check_page, login


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_public_honour_roll(new_page, size, elder):
    page = new_page(size, elder=elder)
    page.goto("/honours/")  # no login
    assert "/login/" not in page.url
    towns = page.locator("[data-testid=towns] a.town-button")
    assert towns.count() == 23
    check_page(page, "honours-towns", elder=elder)
    # the first town with an honour (the demo grants honours in every town with a volunteer)
    page.locator("[data-testid=towns] a.town-button").first.click()
    page.wait_for_url(re.compile(r".*/honours/\d+/$"))
    names = page.locator("[data-testid=roll-honours] .roll-name").all_inner_texts()
    people = [n for n in names if "队" not in n]  # teams are shown by their full name
    assert people and all("*" in n for n in people), names
    check_page(page, "honours-town", elder=elder)


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_my_stars_page(new_page, elder):
    page = new_page(PHONE, elder=elder)
    login(page, "volunteer")
    page.goto("/volunteer/stars/")
    assert page.locator("[data-testid=star-level]").get_attribute("data-stars") is not None
    assert page.locator("[data-testid=my-rewards]").is_visible()
    check_page(page, "rewards-my-stars", elder=elder)


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_staff_grant_and_falsification_pages(new_page, size):
    page = new_page(size)
    login(page, "town_admin")
    page.goto("/area/")
    page.locator("[data-testid=rewards-link]").click()
    page.wait_for_url("**/rewards/")
    check_page(page, "rewards-staff-index")
    # a volunteer with an honour: their page, the honour and reward forms, their service records
    page.locator("main ul.rows a.button[href*='/rewards/people/']").first.click()
    page.wait_for_url(re.compile(r".*/rewards/people/\d+/$"))
    assert page.locator("[data-testid=honour-form]").is_visible()
    check_page(page, "rewards-staff-person")
    # asking for a star level by hand (a crafted form) is refused with a clear message, nothing written
    page.evaluate(
        "() => { const s = document.querySelector('[data-testid=honour-form] select');"
        " const o = document.createElement('option'); o.value = 'star_level'; o.text = 'star';"
        " s.add(o); s.value = 'star_level'; }"
    )
    page.fill("[data-testid=honour-form] input[name=title]", "三星志愿者")
    page.fill("[data-testid=honour-form] textarea[name=citation]", "满600小时")
    page.locator("[data-testid=honour-form] button[type=submit]").click()
    page.locator("[data-testid=honour-form] .notice.bad").wait_for()
    assert page.locator("[data-field=kind] .error").is_visible()
    check_page(page, "rewards-staff-star-refused")
    # the falsification confirmation step shows what will be reversed (not confirmed here)
    falsify = page.locator("[data-testid=records] a.button").first
    if falsify.count():
        falsify.click()
        page.wait_for_url(re.compile(r".*/rewards/falsify/.*"))
        assert page.locator("[data-testid=reversals] li").count() >= 1
        check_page(page, "rewards-staff-falsify-confirm")
    page.goto("/rewards/bars/")
    assert page.locator("[data-testid=bars] tbody tr").count() >= 1
    check_page(page, "rewards-staff-bars")
    page.goto("/rewards/teams/")
    check_page(page, "rewards-staff-teams")


def test_care_home_staff_look_up_priority_admission(new_page):
    page = new_page(DESKTOP)
    login(page, "supervisor")
    page.goto("/rewards/entitlements/?priority=1")
    assert page.locator("[data-testid=entitlement-rows] tbody tr").count() >= 1
    check_page(page, "rewards-entitlements-priority")
