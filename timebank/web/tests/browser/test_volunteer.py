"""The volunteer's journeys in a real browser, as the demo volunteer, at phone and desktop size, in both modes.

Selectors are roles, CSS classes and data-testid attributes, never translated text.
"""

from __future__ import annotations

import re

import pytest

from .conftest import DESKTOP, PHONE, check_page, login

PAGES = ["needs", "schedule", "hours", "stars", "certificates", "give"]


def _open_volunteer(page):
    login(page, "volunteer")
    page.goto("/volunteer/")
    assert page.locator("h1").inner_text().strip()


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_volunteer_page_passes_the_checks(new_page, size, elder):
    page = new_page(size, elder=elder)
    _open_volunteer(page)
    assert page.locator("[data-testid=next-visit] a.button").count() == 1  # the demo's visit in two days
    check_page(page, "volunteer-index", elder=elder)
    for name in PAGES:
        page.goto("/volunteer/")
        page.locator(f"[data-testid=go-{name}]").click()
        page.wait_for_url(f"**/volunteer/{name}/")
        assert page.locator("h1").inner_text().strip()
        check_page(page, f"volunteer-{name}", elder=elder)
    # the visit page (check-in) from the index
    page.goto("/volunteer/")
    page.locator("[data-testid=next-visit] a.button").click()
    page.wait_for_url(re.compile(r".*/volunteer/visits/\d+/$"))
    check_page(page, "volunteer-visit", elder=elder)


def test_needs_near_me_then_apply(new_page):
    page = new_page(PHONE)
    _open_volunteer(page)
    page.locator("[data-testid=go-needs]").click()
    page.wait_for_url("**/volunteer/needs/")
    needs = page.locator("[data-testid=need]")
    needs.first.wait_for()
    assert needs.count() >= 1
    assert re.search(r"\d+\.\d", needs.first.locator(".need-distance").inner_text())  # km with one decimal
    target = page.locator("[data-testid=need]:has([data-testid=apply])").first
    need_id = target.get_attribute("id")
    target.locator("[data-testid=apply]").click()
    page.wait_for_url("**/volunteer/needs/")
    assert page.locator(".notice").is_visible()
    assert page.locator(f"#{need_id} [data-testid=applied]").is_visible()
    check_page(page, "volunteer-needs-applied")


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_schedule_and_check_in_with_the_pin(new_page, elder):
    page = new_page(PHONE, elder=elder)
    _open_volunteer(page)
    page.locator("[data-testid=go-schedule]").click()
    page.wait_for_url("**/volunteer/schedule/")
    page.locator("[data-testid=upcoming-visit]").first.wait_for()
    assert page.locator("[data-testid=past-visit]").count() >= 1  # the demo's six earlier visits
    page.locator("[data-testid=upcoming-visit] [data-testid=open-visit]").first.click()
    page.wait_for_url(re.compile(r".*/volunteer/visits/\d+/$"))
    # headless chromium has no camera: the scanner stays hidden and the fallback says to type the PIN
    page.locator("[data-testid=camera-fallback]").wait_for(state="visible")
    assert not page.locator("[data-testid=scanner]").is_visible()
    pin = page.locator("[data-testid=pin]")
    assert pin.is_visible() and pin.get_attribute("inputmode") == "numeric"
    # a malformed PIN: the error is next to the field, what was typed is kept
    pin.fill("12ab")
    page.locator("[data-testid=check-in]").click()
    page.locator(".field-errors .error").wait_for()
    assert page.input_value("[data-testid=pin]") == "12ab"
    assert page.locator("[data-testid=pin]").get_attribute("aria-invalid") == "true"
    check_page(page, "volunteer-checkin-error", elder=elder)
    # a well-formed PIN two days early: refused in plain words, the visit stays assigned
    page.fill("[data-testid=pin]", "123456")
    page.locator("[data-testid=check-in]").click()
    page.locator(".form-errors .error").wait_for()
    assert page.locator("[data-testid=visit-status]").get_attribute("data-status") == "assigned"


def test_hours_and_star_level(new_page):
    page = new_page(DESKTOP)
    _open_volunteer(page)
    page.locator("[data-testid=go-hours]").click()
    page.wait_for_url("**/volunteer/hours/")
    assert re.search(r"\d", page.locator("[data-testid=balance]").inner_text())
    assert page.locator("[data-testid=statement] li").count() >= 1
    page.goto("/volunteer/stars/")
    bar = page.get_by_role("progressbar")
    assert 0 <= int(bar.get_attribute("aria-valuenow")) <= 100
    assert page.locator("[data-testid=progress-label]").inner_text().strip()  # the bar has a text label


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_donate_half_an_hour_with_confirmation(new_page, size):
    page = new_page(size, elder=size == PHONE)
    _open_volunteer(page)
    page.locator("[data-testid=go-hours]").click()
    page.wait_for_url("**/volunteer/hours/")
    before = float(page.locator("[data-testid=balance] strong").inner_text())
    page.goto("/volunteer/give/")
    # nothing chosen: errors next to the fields, nothing posted
    page.locator("[data-testid=give-next]").click()
    assert page.locator(".field-errors .error").count() >= 2
    page.locator("input[name=to][value=pool]").check()
    page.fill("[data-testid=amount]", "0.5")
    page.locator("[data-testid=give-next]").click()
    page.locator("[data-testid=give-confirm]").wait_for()
    check_page(page, "volunteer-give-confirm", elder=size == PHONE)
    # "change" goes back with what was typed
    page.locator("[data-testid=give-change]").click()
    assert page.input_value("[data-testid=amount]") == "0.5"
    page.locator("[data-testid=give-next]").click()
    page.locator("[data-testid=give-confirm-yes]").click()
    page.wait_for_url("**/volunteer/hours/")
    assert page.locator(".notice").is_visible()
    after = float(page.locator("[data-testid=balance] strong").inner_text())
    assert after == pytest.approx(before - 0.5)
