"""Training journeys in a real browser (the tiny demo city): the volunteer joins a session after confirming and
sees the waiting list and a certificate ending soon; staff open a session, the certificates ending soon and
the targets with progress bars. axe-core on every page, 长辈版 checks too; screenshots.

Selectors use roles, names and data-testid, never translated text.
"""

from __future__ import annotations

import re

import pytest

from .conftest import DESKTOP, PHONE, check_page, login

MODES = [(PHONE, False), (DESKTOP, True)]
MODE_IDS = ["phone-standard", "desktop-elder"]


@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_volunteer_training_page_then_join_with_a_confirmation(new_page, size, elder):
    page = new_page(size, elder=elder)
    login(page, "volunteer")
    page.goto("/volunteer/")
    page.get_by_test_id("go-training").click()
    page.wait_for_url("**/training/")
    # the demo volunteer: a certificate ending soon, a seat, and a place on a waiting list
    assert page.get_by_test_id("expiring").is_visible()
    assert page.get_by_test_id("waiting-position").first.is_visible()
    assert page.get_by_test_id("enrolled").count() >= 1
    check_page(page, "training-volunteer", elder=elder)
    sessions = page.get_by_test_id("open-session")
    assert sessions.count() >= 1
    sessions.first.get_by_test_id("join").click()
    page.wait_for_url(re.compile(r".*/training/sessions/\d+/join/$"))
    assert page.get_by_test_id("join-confirm").is_visible()
    check_page(page, "training-join-confirm", elder=elder)
    page.get_by_test_id("join-yes").click()
    page.wait_for_url("**/training/")
    assert page.locator(".notice").is_visible()
    check_page(page, "training-volunteer-joined", elder=elder)
    # leave again, after the confirmation page
    page.get_by_test_id("my-enrolment").last.get_by_test_id("leave").click()
    page.wait_for_url(re.compile(r".*/training/enrolments/\d+/leave/$"))
    check_page(page, "training-leave-confirm", elder=elder)
    page.get_by_test_id("leave-yes").click()
    page.wait_for_url("**/training/")


def test_certificates_page_warns_about_the_one_ending_soon(new_page):
    page = new_page(PHONE)
    login(page, "volunteer")
    page.goto("/volunteer/certificates/")
    assert page.get_by_test_id("cert-expiring").is_visible()
    check_page(page, "volunteer-certificates-expiring")


@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_social_worker_sessions_session_page_and_expiring(new_page, size, elder):
    page = new_page(size, elder=elder)
    login(page, "social_worker")
    page.goto("/station/")
    page.get_by_test_id("go-training").click()
    page.wait_for_url("**/training/staff/")
    assert page.get_by_test_id("session-row").count() >= 1
    check_page(page, "training-staff-sessions", elder=elder)
    page.get_by_test_id("session-row").first.locator("a").click()
    page.wait_for_url(re.compile(r".*/training/staff/sessions/\d+/$"))
    assert page.get_by_test_id("enrolled-row").count() >= 1
    check_page(page, "training-staff-session", elder=elder)
    # a bad seat number: the service's message next to the field, nothing saved
    page.get_by_test_id("capacity-form").locator("input[name=capacity]").fill("1")
    page.get_by_test_id("capacity-save").click()
    page.locator("[data-testid=capacity-form] .error").wait_for()
    check_page(page, "training-staff-session-bad-seats", elder=elder)
    page.goto("/training/staff/sessions/new/")
    check_page(page, "training-staff-new", elder=elder)
    page.goto("/training/staff/expiring/")
    check_page(page, "training-staff-expiring", elder=elder)


@pytest.mark.parametrize("who", ["supervisor", "town_admin"])
def test_targets_and_progress(new_page, who):
    page = new_page(DESKTOP)
    login(page, who)
    page.goto("/area/")
    page.get_by_test_id("training-link").click()
    page.wait_for_url("**/training/staff/targets/")
    assert page.get_by_test_id("town-progress").count() >= 1
    assert page.locator("progress.target").count() >= 1
    if who == "supervisor":
        assert page.get_by_test_id("city-progress").is_visible()
    assert page.get_by_test_id("target-form").is_visible()
    check_page(page, f"training-targets-{who}")


def test_attendance_sheet_then_results_for_a_session_just_held(new_page):
    page = new_page(DESKTOP)
    login(page, "social_worker")
    page.goto("/training/staff/")
    links = [a.get_attribute("href") for a in page.get_by_test_id("past-session").locator("a").all()]
    for href in links:  # the demo's session three days ago still has its sheet to fill in
        page.goto(href)
        if page.get_by_test_id("present").count():
            break
    else:
        pytest.fail("no recent session with an attendance sheet to fill in")
    check_page(page, "training-staff-attendance-sheet")
    rows = page.get_by_test_id("enrolled-row")
    for i in range(rows.count()):
        rows.nth(i).locator("input[type=radio]").nth(0 if i == 0 else 1).check()
    page.get_by_test_id("attendance-save").click()
    page.locator(".notice.good").wait_for()
    scores = page.get_by_test_id("score")
    assert scores.count() == 1  # only the person marked present can be assessed
    scores.first.fill("88")
    page.get_by_test_id("results-save").click()
    page.locator(".notice.good").wait_for()
    assert "✔" in page.get_by_test_id("enrolled-row").first.inner_text()
    check_page(page, "training-staff-results")


@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_supervisor_adds_a_course_after_confirming_then_stops_offering_it(new_page, size, elder):
    page = new_page(size, elder=elder)
    login(page, "supervisor")
    page.goto("/training/staff/")
    page.get_by_test_id("courses-link").click()
    page.wait_for_url("**/training/staff/courses/")
    assert page.get_by_test_id("course-row").count() >= 8  # the demo's catalogue
    check_page(page, "training-courses", elder=elder)
    page.get_by_test_id("new-course").click()
    page.wait_for_url("**/training/staff/courses/new/")
    form = page.get_by_test_id("course-form")
    title = f"老年人防跌倒照护（{'长辈版' if elder else '手机'}）"
    form.locator("select[name=track]").select_option("elderly")
    form.locator("input[name=title]").fill(title)
    form.locator("textarea[name=description]").fill("居家环境评估、起身与行走辅助")
    form.locator("input[name=teaching_hours]").fill("0")  # refused by the service, next to the field
    form.locator("input[name=validity_months]").fill("24")
    page.get_by_test_id("course-review").click()
    page.locator("[data-field=teaching_hours] .error").wait_for()
    check_page(page, "training-course-new-bad-hours", elder=elder)
    page.get_by_test_id("course-form").locator("input[name=teaching_hours]").fill("12")
    page.get_by_test_id("course-review").click()
    page.get_by_test_id("course-confirm").wait_for()
    check_page(page, "training-course-confirm", elder=elder)
    page.get_by_test_id("course-confirm-yes").click()
    page.wait_for_url("**/training/staff/courses/")
    row = page.get_by_test_id("course-row").filter(has_text=title)
    assert row.count() == 1
    row.get_by_test_id("offer-toggle").click()
    page.wait_for_url(re.compile(r".*/training/staff/courses/\d+/offer/$"))
    check_page(page, "training-course-stop-confirm", elder=elder)
    page.get_by_test_id("offer-yes").click()
    page.wait_for_url("**/training/staff/courses/")
    row = page.get_by_test_id("course-row").filter(has_text=title)
    assert row.locator(".status-voided").count() == 1  # "not offered"
    assert page.locator(".notice.good").is_visible()
    check_page(page, "training-courses-stopped", elder=elder)
    page.goto("/training/staff/sessions/new/")
    options = page.locator("select[name=course] option").all_inner_texts()
    assert len(options) >= 2 and not any(title in o for o in options)  # no session of it can be planned
