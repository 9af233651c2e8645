"""The day's plan (batch dispatch) in a real browser, as the demo social worker: make → review → change →
accept, at phone and desktop size, in the standard view and in 长辈版, axe on every page.

The tiny demo has few open needs on a given day and its volunteers' weekly slots may miss the weekend, so
:func:`story` prepares the live server's database the way staff would, through the services: for each of
the next three days, volunteers of the worker's community get an extra slot (08:00-13:00) and a few elders
of the community get a need (a chat visit) in the morning. Selectors use roles, CSS classes and
data-testid, never translated text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DESKTOP, PHONE, ROOT, SERVER_ENV, check_page, login

STORY = """
import datetime as dt, json
from django.utils import timezone
from timebank.care import services as care
from timebank.common.errors import DomainError
from timebank.matching import services as matching
from timebank.people.models import Resident, StaffRole, User

worker = User.objects.get(username="13800002001")
community = StaffRole.objects.get(user=worker, role="social_worker", active=True).region
here = Resident.objects.filter(home_region__path__startswith=community.path, active=True, lat__isnull=False)
volunteers = list(here.filter(is_volunteer=True).order_by("pk")[:8])
demo_volunteer = User.objects.get(username="13900000001").resident
if demo_volunteer not in volunteers:
    volunteers.append(demo_volunteer)
elders = list(here.filter(is_elder=True, is_volunteer=False).order_by("pk")[:12])
today = timezone.localdate()
made = {}
for offset in (1, 2, 3):
    day = today + dt.timedelta(days=offset)
    for v in volunteers:
        try:
            matching.availability_exception_add(actor=None, volunteer=v, date=day, available=True,
                                                start="08:00", end="13:00", note="browser test")
        except DomainError:
            pass
    n = 0
    for i, elder in enumerate(elders):
        if n == 4:
            break
        start = timezone.make_aware(dt.datetime.combine(day, dt.time(8 + n % 3, 30)))
        try:
            care.need_publish(actor=worker, elder=elder, item="chat", window_start=start,
                              window_end=start + dt.timedelta(hours=2), payer="government")
        except DomainError:
            continue
        n += 1
    made[day.isoformat()] = n
print("STORY=" + json.dumps(made))
"""


@pytest.fixture(scope="module")
def story(site, tmp_path_factory) -> dict[str, int]:
    """Open needs and free volunteers in the demo social worker's community on each of the next three days."""
    [db] = sorted(Path(tmp_path_factory.getbasetemp()).glob("site[0-9]*/site.sqlite3"))
    env = {**SERVER_ENV, "DATABASE_URL": f"sqlite:///{db}"}  # the server's keys: ID numbers are encrypted
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", STORY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"STORY=(\{.*\})", done.stdout)
    assert found, done.stdout + done.stderr
    made: dict[str, int] = json.loads(found.group(1))
    assert all(n >= 2 for n in made.values()), made
    return made


def _day(story: dict[str, int], offset: int) -> str:
    """The day ``offset`` days after the server's today (its time zone, not this machine's)."""
    tomorrow = dt.date.fromisoformat(min(story))
    return (tomorrow + dt.timedelta(days=offset - 1)).isoformat()


def _make_plan(page, day: str) -> None:
    page.fill("input[name=day]", day)
    page.get_by_test_id("make-plan").click()
    page.wait_for_url(re.compile(r"/station/dispatch/\d+/$"))


MODES = [(PHONE, False), (DESKTOP, True)]
MODE_IDS = ["phone-standard", "desktop-elder"]


@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_plan_review_change_and_accept(new_page, story, size, elder):
    day = _day(story, 1 if not elder else 2)  # each run plans its own day
    page = new_page(size, elder=elder)
    login(page, "social_worker")
    page.goto("/station/")
    page.get_by_test_id("plan-tomorrow").click()
    page.wait_for_url("**/station/dispatch/")
    assert page.input_value("input[name=day]") == _day(story, 1)  # tomorrow unless changed
    check_page(page, "dispatch-new", elder=elder)
    _make_plan(page, day)
    plan_url = page.url
    assert page.get_by_test_id("plan-status").get_attribute("data-status") == "draft"
    rows = page.get_by_test_id("plan-row")
    assert rows.count() >= 2, "the optimiser matched fewer than two needs"
    check_page(page, "dispatch-plan", elder=elder)

    # change the first row's volunteer to another of the need's ranked candidates
    first = rows.first
    row_id = first.get_attribute("data-row")
    before = first.get_attribute("data-volunteer")
    first.get_by_test_id("change-volunteer").click()
    page.wait_for_url(re.compile(rf"/station/dispatch/\d+/rows/{row_id}/$"))
    assert page.get_by_test_id("candidates").is_visible()
    check_page(page, "dispatch-row", elder=elder)
    choices = page.locator("[data-testid=candidate]:has([data-testid=choose])")
    if choices.count():
        chosen = choices.first.get_attribute("data-volunteer")
        choices.first.get_by_test_id("choose").click()
        page.wait_for_url(re.compile(r"/station/dispatch/\d+/(#row-\d+)?$"))
        changed = page.locator(f"[data-testid=plan-row][data-row='{row_id}']")
        assert changed.get_attribute("data-volunteer") == chosen != before
    else:
        page.get_by_test_id("back-to-plan").click()
        page.wait_for_url(re.compile(r"/station/dispatch/\d+/(#row-\d+)?$"))

    # leave the last row out, then accept through the confirmation step
    last = page.get_by_test_id("plan-row").last
    last_id = last.get_attribute("data-row")
    last.get_by_test_id("drop-row").click()
    page.wait_for_load_state()
    dropped = page.locator(f"[data-testid=plan-row][data-row='{last_id}']")
    assert dropped.get_attribute("data-included") == "0"
    assert dropped.get_by_test_id("keep-row").is_visible()
    check_page(page, "dispatch-plan-changed", elder=elder)
    to_book = page.locator("[data-testid=plan-row][data-included='1']").count()
    page.get_by_test_id("accept").click()
    page.wait_for_url("**/accept/")
    assert page.get_by_test_id("to-book-row").count() == to_book
    check_page(page, "dispatch-confirm", elder=elder)
    page.get_by_test_id("confirm-accept").click()
    page.wait_for_url(re.compile(r"/station/dispatch/\d+/\?done=accepted$"))
    assert page.get_by_test_id("accepted-notice").is_visible()
    assert page.get_by_test_id("plan-status").get_attribute("data-status") == "accepted"
    booked = page.get_by_test_id("booked-row").count()
    refused = page.get_by_test_id("refused-row").count()
    assert booked >= 1 and booked + refused == to_book
    assert page.locator(f"[data-testid=skipped-row][data-row='{last_id}']").count() == 1
    check_page(page, "dispatch-accepted", elder=elder)

    # the confirmation page sent again (back button, second click) books nothing more
    page.go_back()
    page.wait_for_load_state()
    if page.get_by_test_id("confirm-accept").count():
        page.get_by_test_id("confirm-accept").click()
        page.wait_for_load_state()
    page.goto(plan_url)
    assert page.get_by_test_id("booked-row").count() == booked
    # a booked visit opens from the plan
    page.get_by_test_id("booked-row").first.locator("a.button").click()
    page.wait_for_url(re.compile(r"/station/visits/\d+/$"))
    assert page.get_by_test_id("visit-status").get_attribute("data-status") == "assigned"


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_every_dispatch_page_in_both_modes_and_sizes(new_page, story, size, elder):
    page = new_page(size, elder=elder)
    login(page, "social_worker")
    page.goto("/station/dispatch/")
    check_page(page, "dispatch-new", elder=elder)
    # an empty day is refused next to the field, and what was typed stays
    empty = _day(story, 30)
    page.fill("input[name=day]", empty)
    page.get_by_test_id("make-plan").click()
    page.wait_for_load_state()
    assert page.locator("[data-field=day] .error").is_visible()
    assert page.input_value("input[name=day]") == empty
    check_page(page, "dispatch-new-error", elder=elder)
    _make_plan(page, _day(story, 3))  # a draft only: nothing is booked
    check_page(page, "dispatch-plan", elder=elder)
    page.get_by_test_id("plan-row").first.get_by_test_id("change-volunteer").click()
    page.wait_for_url(re.compile(r"/rows/\d+/$"))
    check_page(page, "dispatch-row", elder=elder)
    page.get_by_test_id("back-to-plan").click()
    page.get_by_test_id("accept").click()
    page.wait_for_url("**/accept/")
    check_page(page, "dispatch-confirm", elder=elder)
    response = page.goto("/station/dispatch/999999/")
    assert response.status == 404
    check_page(page, "dispatch-404", elder=elder)
