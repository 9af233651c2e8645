"""The elder area in a real browser, as the demo proxy (梁志明, her son) and the demo elder (何惠珍).

The tiny demo gives her no stored hours and no visit waiting for confirmation, so :func:`story` adds both
to the live server's database the way staff would (a supervisor's adjustment of 3 hours; a visit the
station checked in and the demo volunteer checked out an hour later), through the services.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DESKTOP, PHONE, ROOT, SERVER_ENV, check_page, login

STORY = """
import datetime as dt
from django.utils import timezone
from timebank.care import services as care
from timebank.ledger import services as ledger
from timebank.people.models import StaffRole, User
from timebank.people.selectors import can_manage_resident

supervisor = User.objects.get(username="13800000001")
volunteer = User.objects.get(username="13900000001")
elder = User.objects.get(username="13900000003").resident
ledger.adjustment_post(key="browser-test-elder-hours", account=ledger.account_for(elder), minutes=180,
                       actor=supervisor, reason="browser test: opening hours")
worker = next(r.user for r in StaffRole.objects.filter(role="social_worker", active=True).select_related("user")
              if can_manage_resident(r.user, elder))
now = timezone.now().replace(second=0, microsecond=0)
start = now - dt.timedelta(minutes=90)
[need] = care.need_publish(actor=worker, elder=elder, item="grocery", window_start=start,
                           window_end=now + dt.timedelta(minutes=30), payer="government")
visit = care.visit_assign(actor=worker, need=need, volunteer=volunteer.resident)
visit = care.visit_check_in(actor=worker, visit=visit, at=start)
visit = care.visit_check_out(actor=volunteer, visit=visit, lat=elder.lat, lon=elder.lon,
                             at=start + dt.timedelta(minutes=60))
print(f"ELDER={elder.pk} VISIT={visit.pk}")
"""


@pytest.fixture(scope="module")
def story(site, tmp_path_factory) -> dict[str, int]:
    """Add hours and a checked-out visit for the demo elder to the live server's database."""
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
    found = re.search(r"ELDER=(\d+) VISIT=(\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    return {"elder": int(found.group(1)), "visit": int(found.group(2))}


def go_to_elder_home(page) -> None:
    login(page, "proxy")
    page.locator("a.area-button[href='/elder/']").click()
    page.wait_for_selector("[data-testid=go-ask]")


SIZES = [PHONE, DESKTOP]
MODES = pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])


@MODES
def test_every_page_in_both_modes_and_sizes(new_page, story, elder):
    """Every page of the area, as the proxy: axe (and the 长辈版 checks) at phone and desktop size."""
    e = story["elder"]
    pages = [
        ("home", f"/elder/{e}/"),
        ("ask-1-service", f"/elder/{e}/ask/"),
        ("ask-2-when", f"/elder/{e}/ask/chat/"),
        ("visits", f"/elder/{e}/visits/"),
        ("confirm", f"/elder/{e}/visits/{story['visit']}/confirm/"),
        ("hours", f"/elder/{e}/hours/"),
        ("give", f"/elder/{e}/give/"),
        ("card", f"/elder/{e}/card/"),
    ]
    for size in SIZES:
        page = new_page(size, elder=elder)
        go_to_elder_home(page)
        assert page.url.endswith(f"/elder/{e}/")
        assert page.get_by_test_id("acting-for").is_visible()
        for name, path in pages:
            response = page.goto(path)
            assert response.status == 200, path
            check_page(page, f"elder-{name}", elder=elder)


@MODES
def test_ask_for_help_in_three_steps(new_page, story, elder):
    for size in SIZES:
        page = new_page(size, elder=elder)
        go_to_elder_home(page)
        page.get_by_test_id("go-ask").click()  # step 1: big picture buttons
        tiles = page.locator("[data-testid=common-items] a.eld-tile")
        assert tiles.count() >= 6
        assert tiles.first.get_attribute("data-item") == "chat"  # the most asked first
        box = tiles.first.bounding_box()
        assert box["height"] >= 100 and box["width"] >= 100
        tiles.first.click()  # step 2: when
        page.check("input[name=when][value=tomorrow_am]")
        page.fill("textarea[name=notes]", "请讲粤语")
        page.get_by_test_id("send").click()  # step 3: done
        page.wait_for_selector("[data-testid=need-summary]")
        assert page.get_by_test_id("payer").get_attribute("data-payer") == "pool"  # lives alone at 82
        assert "粤语" not in page.url
        check_page(page, "elder-ask-3-done", elder=elder)


def test_ask_for_another_day_without_a_day_shows_the_error_and_keeps_the_note(new_page, story):
    page = new_page(PHONE, elder=True)
    login(page, "proxy")
    page.goto(f"/elder/{story['elder']}/ask/chat/")
    page.check("input[name=when][value=other]")
    page.fill("textarea[name=notes]", "门铃坏了，请敲门")
    page.get_by_test_id("send").click()
    assert page.locator("#day-error").is_visible()
    assert page.input_value("textarea[name=notes]") == "门铃坏了，请敲门"
    assert page.is_checked("input[name=when][value=other]")
    check_page(page, "elder-ask-2-error", elder=True)


def test_upcoming_visit_then_confirm_and_rate(new_page, story):
    page = new_page(PHONE, elder=True)
    go_to_elder_home(page)
    page.get_by_test_id("go-visits").click()
    # the demo's upcoming visit, with the volunteer's card: name, stars, languages
    coming = page.locator("[data-testid=visit]:has([data-status=coming])").first
    assert coming.get_by_test_id("volunteer-card").inner_text().strip()
    # the visit the volunteer has just finished: confirm, then stars
    todo = page.locator(f"[data-visit='{story['visit']}']")
    assert todo.locator("[data-status=todo]").is_visible()
    todo.get_by_test_id("confirm").click()
    page.get_by_test_id("confirm-yes").click()
    page.wait_for_selector("[data-testid=rate-form]")
    check_page(page, "elder-rate", elder=True)
    page.check("input[name=stars][value='5']")
    page.check("input[name=tags][value='耐心']")
    page.fill("textarea[name=comment]", "买菜很细心")
    page.get_by_test_id("send-stars").click()
    page.wait_for_selector(".eld-message")
    assert page.locator(f"[data-visit='{story['visit']}'] [data-status=done]").is_visible()
    check_page(page, "elder-visits-after", elder=True)


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_statement_and_give_hours_with_a_confirmation_step(new_page, story, size):
    page = new_page(size, elder=size == PHONE)
    go_to_elder_home(page)
    page.get_by_test_id("go-hours").click()
    before = float(page.locator("[data-testid=balance] .eld-number").inner_text())
    assert before >= 1
    page.goto(f"/elder/{story['elder']}/give/")
    page.locator("input[name=recipient]").first.check()
    page.fill("input[name=hours]", "1.5")
    page.get_by_test_id("next").click()
    question = page.get_by_test_id("give-question")
    assert "1.5" in question.inner_text() and "梁志明" in question.inner_text()
    check_page(page, "elder-give-confirm", elder=size == PHONE)
    page.get_by_test_id("no").click()  # No: back, values kept, nothing given
    assert page.input_value("input[name=hours]") == "1.5"
    page.get_by_test_id("next").click()
    page.get_by_test_id("yes").click()
    page.wait_for_selector("[data-testid=statement]")
    assert page.locator(".eld-message").is_visible()
    after = float(page.locator("[data-testid=balance] .eld-number").inner_text())
    assert after == pytest.approx(before - 1.5)


def test_give_bad_amount_shows_the_error_next_to_the_field(new_page, story):
    page = new_page(PHONE, elder=True)
    login(page, "proxy")
    page.goto(f"/elder/{story['elder']}/give/")
    page.locator("input[name=recipient]").first.check()
    page.fill("input[name=hours]", "1.25")
    page.get_by_test_id("next").click()
    assert page.locator("#hours-error").is_visible()
    assert page.input_value("input[name=hours]") == "1.25"
    check_page(page, "elder-give-error", elder=True)


@MODES
def test_the_elder_herself_and_her_card(new_page, story, elder):
    page = new_page(PHONE, elder=elder)
    login(page, "elder")
    page.goto("/elder/")
    assert page.url.endswith(f"/elder/{story['elder']}/")
    assert page.get_by_test_id("acting-for").count() == 0
    page.get_by_test_id("go-card").click()
    assert page.get_by_test_id("ask-station").is_visible()  # only the station prints cards
    assert page.get_by_test_id("print-form").count() == 0
    check_page(page, "elder-card-self", elder=elder)


def test_someone_elses_elder_is_the_styled_404(new_page, story):
    page = new_page(PHONE)
    login(page, "volunteer")
    response = page.goto(f"/elder/{story['elder']}/")
    assert response.status == 403
    page2 = new_page(PHONE)
    login(page2, "proxy")
    response = page2.goto(f"/elder/{story['elder'] + 100000}/hours/")
    assert response.status == 404
    assert "时间银行" in page2.title()
