"""Login codes, password change and the Content-Security-Policy in a real browser (issue 13, defects 5 and 6).

The server runs with production settings (HTTPS, two-factor login for staff, the CSP); see conftest.py.
Each test uses its own demo accounts (town admins and social workers of towns 02–06), so the accounts
other tests log in with keep the demo password and key.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP

from .conftest import DESKTOP, PASSWORD, PHONE, ROOT, SERVER_ENV, check_page, login, totp_code

MODES = [(DESKTOP, False), (PHONE, True)]
MODE_IDS = ["desktop-standard", "phone-elder"]


def _password_step(page, phone: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", phone)
    page.fill("input[name=password]", password)
    page.locator("form.form button[type=submit]").click()


@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_a_town_admin_confirms_the_login_with_a_code(new_page, size, elder):
    phone = "13800001002" if not elder else "13800001003"
    page = new_page(size, elder=elder)
    _password_step(page, phone)
    page.wait_for_url("**/account/two-factor/**")
    assert page.get_by_role("heading", name="确认登录").is_visible()
    check_page(page, "account-two-factor", elder=elder)
    page.goto("/area/")  # nothing else opens before the code
    page.wait_for_url("**/account/two-factor/**")

    page.get_by_label("身份验证器应用上的 6 位验证码").fill("000000")
    page.get_by_test_id("confirm-code").click()
    assert page.get_by_role("alert").filter(has_text="验证码不对或已过期").is_visible()
    check_page(page, "account-two-factor-wrong", elder=elder)

    time.sleep(1.2)  # a wrong code pauses the tries for a second
    page.get_by_label("身份验证器应用上的 6 位验证码").fill(totp_code(phone))
    page.get_by_test_id("confirm-code").click()
    page.wait_for_url(re.compile(r"/area/$"))
    assert page.locator("h1").is_visible()


@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_a_town_admin_without_an_authenticator_sets_one_up(new_page, size, elder):
    phone = "13800001004" if not elder else "13800001005"
    forget = (
        "from django_otp.plugins.otp_totp.models import TOTPDevice; "
        f"TOTPDevice.objects.filter(user__username='{phone}').delete()"
    )
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", forget],
        cwd=ROOT,
        env=SERVER_ENV,
        check=True,
        capture_output=True,
    )
    page = new_page(size, elder=elder)
    _password_step(page, phone)
    page.wait_for_url("**/account/two-factor/set-up/**")
    assert page.get_by_test_id("totp-qr").get_by_role("img", name="身份验证器应用的二维码").is_visible()
    check_page(page, "account-two-factor-setup", elder=elder)
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    code = f"{TOTP(b32decode(secret)).token():06d}"
    page.get_by_label("身份验证器应用上的 6 位验证码").fill(code)
    page.get_by_test_id("confirm-code").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_test_id("password-link").is_visible()


@pytest.mark.parametrize(("size", "elder"), MODES, ids=MODE_IDS)
def test_a_social_worker_changes_the_password(new_page, size, elder):
    phone = "13800002003" if not elder else "13800002004"
    new = "Zheng-Station-2027"
    page = new_page(size, elder=elder)
    login(page, phone)
    page.get_by_test_id("password-link").click()
    page.wait_for_url("**/account/password/")
    check_page(page, "account-password", elder=elder)

    page.get_by_label("现在的密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("12345678")
    page.get_by_label("再输入一次新密码").fill("12345678")
    page.get_by_test_id("change-password").click()
    assert page.locator("[role=alert]").first.is_visible()
    assert "密码没有修改" in page.content()
    check_page(page, "account-password-refused", elder=elder)

    page.get_by_label("现在的密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill(new)
    page.get_by_label("再输入一次新密码").fill(new)
    page.get_by_test_id("change-password").click()
    assert page.get_by_test_id("password-changed").is_visible()
    check_page(page, "account-password-changed", elder=elder)

    page.locator("header form").filter(has_text="退出").get_by_role("button").click()
    _password_step(page, phone)  # the old password no longer opens the account
    assert page.get_by_role("alert").first.is_visible()
    _password_step(page, phone, new)
    page.wait_for_url(re.compile(r"/$"))


def test_pages_with_scripts_and_styles_break_no_policy(new_page):
    """The pages that carry an inline script or style (nonce'd) and the API docs: no CSP violation."""
    page = new_page(DESKTOP)
    login(page, "volunteer")
    for path in ("/volunteer/stars/", "/volunteer/schedule/", "/teams/", "/honours/", "/api/v1/docs"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    visit = page.goto("/volunteer/schedule/")
    assert visit is not None and visit.ok
    links = page.locator("a[href*='/volunteer/visits/']")
    if links.count():
        links.first.click()
        page.wait_for_load_state("networkidle")
    assert page.csp_violations == []
    headers = page.goto("/volunteer/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    # The watcher itself: a style element without the nonce is refused, and reported.
    page.evaluate("document.head.appendChild(document.createElement('style')).textContent = 'body{color:red}'")
    page.wait_for_timeout(300)
    assert page.csp_violations and "style-src" in " ".join(page.csp_violations)
