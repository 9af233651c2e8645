"""My API tokens page in a real browser: make a token (shown once, with its expiry), revoke it after a
confirmation."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import DESKTOP, PHONE, check_page, login


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_make_and_revoke_a_token(new_page, elder):
    page = new_page(PHONE if elder else DESKTOP, elder=elder)
    login(page, "town_admin")
    page.goto("/area/")
    page.locator("nav.subnav").get_by_role("link", name="API 令牌").click()
    page.wait_for_url("**/account/tokens/")
    check_page(page, "account-tokens", elder=elder)
    name = "长辈版的令牌" if elder else "标准版的令牌"
    page.get_by_label("用途").fill(name)
    page.get_by_label("办理：登记人员、发布需求、记录和确认服务").check()
    page.get_by_label("一年后").check()  # when it stops working (the default is 90 days)
    page.get_by_test_id("make").click()
    secret = page.get_by_test_id("secret").inner_text().strip()
    assert secret.startswith("tb_")
    check_page(page, "account-token-made", elder=elder)
    page.reload()
    assert secret not in page.content()  # shown once
    row = page.get_by_test_id(f"token-{secret.split('_')[1]}")
    assert name in row.inner_text()
    expiry = dt.date.today() + dt.timedelta(days=365)  # the server's zone may be a day ahead: either day
    shown = row.get_by_test_id("expiry").inner_text()
    assert "可用到" in shown and any(f"{expiry + dt.timedelta(days=d):%Y-%m-%d}" in shown for d in (-1, 0, 1))
    row.get_by_role("link", name="撤销").click()
    check_page(page, "account-token-revoke", elder=elder)
    page.get_by_test_id("confirm").click()
    assert page.get_by_test_id("revoked").is_visible()
    assert "撤销" in page.get_by_test_id(f"token-{secret.split('_')[1]}").inner_text()
