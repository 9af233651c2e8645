"""Every role's home page in a real browser, at phone and desktop size, in both modes."""

from __future__ import annotations

import pytest

from .conftest import DESKTOP, LOGINS, PHONE, check_page, login


@pytest.mark.parametrize("who", list(LOGINS))
@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_home_page_of_every_role(new_page, who, elder):
    for size in (PHONE, DESKTOP):
        page = new_page(size, elder=elder)
        login(page, who)
        assert page.locator("h1").inner_text().strip()
        check_page(page, f"home-{who}", elder=elder)


def test_login_page_and_errors(new_page):
    page = new_page(PHONE, elder=True)
    page.goto("/login/")
    check_page(page, "login", elder=True)
    page.fill("input[name=username]", "12345")
    page.fill("input[name=password]", "x")
    page.locator("form.form button[type=submit]").click()
    assert "手机号" in page.locator(".error").first.inner_text()
    assert page.input_value("input[name=username]") == "12345"  # what was typed is kept


def test_pages_outside_your_role_are_styled_403_and_404(new_page):
    page = new_page(PHONE)
    login(page, "volunteer")
    response = page.goto("/station/")
    assert response.status == 403
    assert "时间银行" in page.title()
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert "时间银行" in page.title()
    check_page(page, "not-found")


def test_language_switch_to_english(new_page):
    page = new_page(PHONE)
    login(page, "volunteer")
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Log out").is_visible()


def test_the_elder_checks_catch_the_standard_view(new_page):
    """The 长辈版 checks are real: the standard view (17 px text, 44 px targets) fails them."""
    from .conftest import _ELDER_CHECKS

    page = new_page(PHONE)
    login(page, "volunteer")
    problems = page.evaluate(_ELDER_CHECKS)
    assert any(p.startswith("body text") for p in problems)
    assert any(p.startswith("target") for p in problems)
