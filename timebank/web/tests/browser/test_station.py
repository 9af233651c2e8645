"""Station and area journeys in a real browser: phone and desktop, standard view and 长辈版, axe on every page.

Selectors use roles, CSS classes, names and data-testid, never translated text.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from timebank.people import idnumber

from .conftest import DESKTOP, PHONE, check_page, login

MODES = [(PHONE, False), (DESKTOP, True)]
MODE_IDS = ["phone-standard", "desktop-elder"]


def _id_number(age: int) -> str:
    today = dt.date.today()
    birth = today.replace(year=today.year - age) - dt.timedelta(days=random.randint(10, 300))
    return idnumber.make("442000", birth, random.randint(100, 998))


@pytest.mark.parametrize("who", ["social_worker", "town_admin"])
@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_station_dashboard_and_search(new_page, who, size, elder):
    page = new_page(size, elder=elder)
    login(page, who)
    page.goto("/station/")
    for part in ("today", "open-needs", "disputes", "flags"):
        assert page.get_by_test_id(part).is_visible()
    check_page(page, f"station-{who}", elder=elder)
    page.fill("input[name=q]", "z")
    page.locator("form.search button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/station/residents/\?q=z"))
    check_page(page, f"station-search-{who}", elder=elder)
    # every page the dashboard links to: a need to dispatch, a visit, a complaint (when the demo has them)
    page.goto("/station/")
    for testid, name in (("open-needs", "need"), ("today", "visit"), ("disputes", "dispute"), ("flags", "flag-visit")):
        link = page.get_by_test_id(testid).locator("a").first
        if link.count():
            link.click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text().strip()
            check_page(page, f"station-{name}-{who}", elder=elder)
            page.goto("/station/")


@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_register_publish_dispatch_and_confirm_for_an_elder(new_page, size, elder):
    offset = 1 if not elder else 2  # each run on its own day: the volunteer's visits must not overlap
    day = (dt.date.today() + dt.timedelta(days=offset)).isoformat()
    page = new_page(size, elder=elder)
    login(page, "social_worker")
    page.goto("/station/")
    page.locator("nav.subnav a").nth(2).click()
    page.wait_for_url("**/station/residents/new/")
    check_page(page, "station-register", elder=elder)

    # a wrong ID number: the error is next to the field, what was typed stays, nothing is written
    name = random.choice(["张伟明", "李秀英", "陈桂芳", "黄志强"]) + str(offset)
    page.fill("input[name=name]", name)
    page.fill("input[name=id_number]", "44200019400101123")
    page.fill("input[name=address]", "莲峰路 3 号")
    page.locator("input[name=roles][value=elder]").check()
    page.locator("input[name=lives_alone]").check()
    page.locator("form[data-testid=register-form] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-field=id_number] .error").is_visible()
    assert page.input_value("input[name=name]") == name
    assert page.input_value("input[name=address]") == "莲峰路 3 号"
    assert page.locator("input[name=lives_alone]").is_checked()
    check_page(page, "station-register-errors", elder=elder)

    number = _id_number(82)
    page.fill("input[name=id_number]", number)
    page.fill("input[name=phone]", "13812345678")
    page.locator("form[data-testid=register-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/station/residents/\d+/\?new=1"))
    shown = page.get_by_test_id("id-number").inner_text()
    assert number not in shown and "*" in shown
    check_page(page, "station-resident", elder=elder)
    page.get_by_test_id("show-id").click()
    page.wait_for_load_state()
    assert number in page.get_by_test_id("id-number").inner_text()
    resident_url = page.url.split("id-number")[0]
    # the phone is masked too; shown in full on purpose (recorded), like the ID number
    assert page.get_by_test_id("phone").inner_text().startswith("138****5678")
    page.get_by_test_id("show-phone").click()
    page.wait_for_load_state()
    assert "13812345678" in page.get_by_test_id("phone").inner_text()
    check_page(page, "station-resident-phone", elder=elder)
    page.goto(resident_url)

    # publish a need for the elder
    page.get_by_test_id("publish-need").click()
    page.wait_for_url(re.compile(r"/station/residents/\d+/need/"))
    check_page(page, "station-need-new", elder=elder)
    page.select_option("select[name=item]", index=1)
    page.fill("input[name=day]", day)
    page.fill("input[name=start]", "19:00")
    page.fill("input[name=end]", "21:00")
    page.locator("form[data-testid=need-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/station/needs/\d+/$"))
    check_page(page, "station-dispatch", elder=elder)

    # dispatch: the first candidate that can come
    buttons = page.get_by_test_id("assign")
    assert buttons.count() >= 1, "nobody to dispatch"
    for _ in range(buttons.count()):
        page.get_by_test_id("assign").first.click()
        page.wait_for_load_state()
        if "/station/visits/" in page.url:
            break
        assert page.get_by_test_id("assign-error").is_visible()
    assert "/station/visits/" in page.url
    assert page.get_by_test_id("visit-status").get_attribute("data-status") == "assigned"
    check_page(page, "station-visit", elder=elder)

    # the elder has no phone: the worker checks the volunteer in and out with the times the elder gives
    page.fill("input[name=at]", f"{day}T19:05")
    page.locator("form[data-testid=moment-form] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("visit-status").get_attribute("data-status") == "checked_in"
    page.fill("input[name=at]", f"{day}T20:20")
    page.locator("form[data-testid=moment-form] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("visit-status").get_attribute("data-status") == "checked_out"
    check_page(page, "station-visit-confirm", elder=elder)
    page.locator("form[data-testid=confirm-form] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("visit-status").get_attribute("data-status") == "confirmed"
    check_page(page, "station-visit-confirmed", elder=elder)

    # print the elder's card: a warning first, then the PDF as a download
    page.goto(resident_url + "card/")
    check_page(page, "station-card", elder=elder)
    with page.expect_download() as download:
        page.get_by_test_id("print").click()
    assert download.value.suggested_filename.endswith(".pdf")


@pytest.mark.parametrize("who", ["town_admin", "supervisor", "partner_admin"])
@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_area_overview(new_page, who, size, elder):
    page = new_page(size, elder=elder)
    login(page, who)
    page.goto("/area/")
    assert page.get_by_test_id("figures").is_visible()
    assert page.get_by_test_id("outstanding").count() == (1 if who == "supervisor" else 0)
    check_page(page, f"area-{who}", elder=elder)


@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_supervisor_changes_a_policy_through_the_confirmation_step(new_page, size, elder):
    day = (dt.date.today() + dt.timedelta(days=400 + (1 if elder else 0))).isoformat()
    page = new_page(size, elder=elder)
    login(page, "supervisor")
    page.goto("/area/")
    page.get_by_test_id("policies-link").click()
    page.wait_for_url("**/area/policies/")
    check_page(page, "area-policies", elder=elder)
    page.get_by_test_id("policy-ledger.balance_cap_minutes").locator("a.button").click()
    page.wait_for_url("**/area/policies/ledger.balance_cap_minutes/")
    check_page(page, "area-policy-edit", elder=elder)
    # a day in the past is refused next to the field
    page.fill("input[name=value]", "72000")
    page.fill("input[name=effective_from]", "2020-01-01")
    page.locator("form[data-testid=policy-form] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-field=effective_from] .error").is_visible()
    assert page.input_value("input[name=value]") == "72000"
    page.fill("input[name=effective_from]", day)
    page.locator("form[data-testid=policy-form] button[type=submit]").click()
    page.wait_for_load_state()
    sentence = page.locator(".confirm-sentence").inner_text()
    assert day in sentence and "72,000" in sentence and "1,200" in sentence
    check_page(page, "area-policy-confirm", elder=elder)
    page.get_by_test_id("confirm").click()
    page.wait_for_url(re.compile(r"/area/policies/\?changed="))
    assert page.get_by_test_id("changed").is_visible()
    history = page.get_by_test_id("policy-ledger.balance_cap_minutes")
    history.locator("summary").click()
    assert day in history.inner_text()
    check_page(page, "area-policies-changed", elder=elder)
