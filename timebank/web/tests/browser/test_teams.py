"""Teams pages in a real browser: a volunteer signs up for a group activity; the team leader fills in the
attendance sheet and posts it; a judge scores; the results of the closed competition.

Selectors are data-testid attributes and CSS classes, never translated text.
"""

from __future__ import annotations

import re

import pytest

from .conftest import DESKTOP, PHONE, check_page, login


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_volunteer_finds_an_event_and_signs_up(new_page, elder):
    page = new_page(PHONE, elder=elder)
    login(page, "volunteer")
    page.goto("/volunteer/")
    page.locator("[data-testid=go-teams]").click()
    page.wait_for_url("**/teams/")
    assert page.locator("[data-testid=my-teams] li").count() >= 1  # the demo volunteer leads a team
    check_page(page, "teams-index", elder=elder)
    join = page.locator("[data-testid=event] [data-testid=join-event]")
    if join.count() == 0:  # the browser tests share one demo: an earlier run signed up for every event
        page.locator("[data-testid=cancel-event]").first.click()
        page.locator("[data-testid=cancel-yes]").click()
        page.wait_for_url("**/teams/")
    assert join.count() >= 1
    join.first.click()
    page.wait_for_url(re.compile(r".*/teams/events/\d+/join/$"))
    check_page(page, "teams-event-join", elder=elder)
    page.locator("[data-testid=join-yes]").click()
    page.wait_for_url("**/teams/")
    assert page.locator(".notice").first.is_visible()


def test_leader_posts_the_attendance_sheet(new_page):
    page = new_page(DESKTOP)
    login(page, "volunteer")
    page.goto("/teams/")
    page.locator("[data-testid=led-team] a").first.click()
    page.wait_for_url(re.compile(r".*/teams/team/\d+/$"))
    assert page.locator("[data-testid=member-form]").is_visible()  # the leader manages the team
    check_page(page, "teams-team")
    # the event that ended and waits for its sheet
    waiting = page.locator("[data-testid=team-events] li:not(:has(.done)) a")
    links = [waiting.nth(i).get_attribute("href") for i in range(waiting.count())]
    for href in links:
        page.goto(href)
        if page.locator("[data-testid=sheet-link]").count():
            break
    else:
        pytest.fail("no ended event waits for its sheet in the demo")
    check_page(page, "teams-event")
    page.locator("[data-testid=sheet-link]").click()
    page.wait_for_url(re.compile(r".*/teams/events/\d+/sheet/$"))
    rows = page.locator("[data-testid=sheet-row]")
    assert rows.count() >= 1
    assert re.match(r"\d\d:\d\d", rows.first.locator("input[type=time]").first.input_value())  # prefilled
    check_page(page, "teams-sheet")
    page.locator("[data-testid=sheet-next]").click()
    page.locator("[data-testid=sheet-confirm]").wait_for()
    check_page(page, "teams-sheet-confirm")
    page.locator("[data-testid=sheet-confirm-yes]").click()
    page.locator("[data-testid=posted]").wait_for()
    assert page.locator(".notice").first.is_visible()
    check_page(page, "teams-event-posted")


def test_judge_scores_and_results_are_listed(new_page):
    page = new_page(DESKTOP)
    login(page, "town_admin")  # a judge of both demo competitions
    page.goto("/teams/competitions/")
    check_page(page, "teams-competitions")
    page.locator("[data-testid=competitions] li a").first.click()  # the open one (2027) is listed first
    page.locator("[data-testid=score-form]").wait_for()
    inputs = page.locator("[data-testid=score-form] input[type=number]")
    for i in range(inputs.count()):
        inputs.nth(i).fill(str(70 + i))
    check_page(page, "teams-score")
    page.locator("[data-testid=score-save]").click()
    page.locator(".notice").first.wait_for()
    page.goto("/teams/competitions/")
    page.locator("[data-testid=competitions] li a").nth(1).click()
    page.locator("[data-testid=results]").wait_for()
    assert page.locator("[data-testid=result]").count() >= 2
    check_page(page, "teams-results")


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_competition_run_and_a_sign_up_cancelled(new_page, elder):
    """A city supervisor opens a competition (confirmation), nominates a project, closes it (confirmation) and
    sees the results; a volunteer cancels a sign-up (confirmation)."""
    page = new_page(DESKTOP, elder=elder)
    login(page, "supervisor")
    page.goto("/teams/competitions/")
    page.locator("[data-testid=competition-new]").click()
    page.locator("[data-testid=competition-form]").wait_for()
    page.fill("input[name=title]", f"浏览器测试项目大赛{'长辈版' if elder else ''}")
    page.fill("input[name=year]", "2020")  # listed after the demo competitions (2027, 2026)
    page.fill("textarea[name=criteria]", "成效\n创新")
    page.locator("[data-testid=judges] input[type=checkbox]").first.check()
    check_page(page, "teams-competition-new", elder=elder)
    page.locator("[data-testid=competition-next]").click()
    page.locator("[data-testid=competition-confirm]").wait_for()
    check_page(page, "teams-competition-confirm", elder=elder)
    page.locator("[data-testid=competition-yes]").click()
    page.locator("[data-testid=nominate-form]").wait_for()
    assert page.locator(".notice").first.is_visible()
    page.locator("[data-testid=nominate-form] select").select_option(index=1)
    check_page(page, "teams-competition-nominate", elder=elder)
    page.locator("[data-testid=nominate-save]").click()
    page.locator(".notice").first.wait_for()
    page.locator("[data-testid=close-link]").click()
    page.locator("[data-testid=close-confirm]").wait_for()
    check_page(page, "teams-competition-close", elder=elder)
    page.locator("[data-testid=close-yes]").click()
    page.locator("[data-testid=results]").wait_for()
    assert page.locator("[data-testid=result]").count() == 1  # the nominated project, not scored
    check_page(page, "teams-competition-closed", elder=elder)

    page = new_page(PHONE, elder=elder)
    login(page, "volunteer")
    page.goto("/teams/")
    if page.locator("[data-testid=cancel-event]").count() == 0:
        page.locator("[data-testid=event] [data-testid=join-event]").first.click()
        page.locator("[data-testid=join-yes]").click()
        page.wait_for_url("**/teams/")
    cancels = page.locator("[data-testid=cancel-event]")
    before = cancels.count()
    assert before >= 1
    cancels.first.click()
    page.wait_for_url(re.compile(r".*/teams/signups/\d+/cancel/$"))
    check_page(page, "teams-event-cancel", elder=elder)
    page.locator("[data-testid=cancel-yes]").click()
    page.wait_for_url("**/teams/")
    assert page.locator(".notice").first.is_visible()
    assert page.locator("[data-testid=cancel-event]").count() == before - 1
