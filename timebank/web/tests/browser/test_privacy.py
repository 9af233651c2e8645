"""My data (我的信息) in a real browser, standard and 长辈版: see it, download it, ask for a correction; the
supervisor answers from the queue; the leave page explains before anything happens (not confirmed here: the
demo volunteer is shared by the other browser tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import DESKTOP, PHONE, check_page, login


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_my_data_download_and_correction(new_page, elder):
    page = new_page(PHONE if elder else DESKTOP, elder=elder)
    login(page, "volunteer")
    page.get_by_test_id("my-data-link").click()
    page.wait_for_url("**/my-data/")
    assert page.get_by_role("heading", name="我的信息", level=1).is_visible()
    assert page.get_by_test_id("section-profile").is_visible()
    assert "身份证号（部分隐藏）" in page.get_by_test_id("section-profile").inner_text()
    check_page(page, "privacy-mine", elder=elder)

    with page.expect_download() as info:
        page.get_by_test_id("download").click()
    data = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert data["format"] == "timebank.my-data/1" and "ledger" in data["sections"]

    # a refused request: the reason is missing; nothing is sent and the page says why, in Chinese
    page.get_by_label("哪一项不对？").select_option("address")
    page.get_by_label("应该是什么").fill("石岐区莲峰路 12 号")
    page.get_by_test_id("send").click()
    assert "请简单说明哪里不对" in page.content()
    check_page(page, "privacy-mine-error", elder=elder)
    page.get_by_label("原因（简单说几句）").fill("门牌号登记错了")
    page.get_by_test_id("send").click()
    assert page.get_by_test_id("asked").is_visible()
    assert "等待服务站处理" in page.get_by_test_id("section-corrections").inner_text()

    page.goto("/my-data/leave/")
    assert page.get_by_test_id("leave-confirm").is_visible()
    check_page(page, "privacy-leave", elder=elder)
    page.get_by_test_id("leave-no").click()
    page.wait_for_url("**/my-data/")

    staff = new_page(DESKTOP if not elder else PHONE, elder=elder)
    login(staff, "supervisor")
    staff.get_by_test_id("corrections-link").click()
    staff.wait_for_url("**/my-data/requests/")
    check_page(staff, "privacy-queue", elder=elder)
    staff.get_by_test_id("queue").get_by_role("link", name="答复").first.click()
    check_page(staff, "privacy-answer", elder=elder)
    staff.get_by_label("不更正").check()
    staff.get_by_label("理由或您做了什么（申请人会看到）").fill("请带房产证或租房合同到服务站办理")
    staff.get_by_test_id("send-answer").click()
    assert staff.get_by_test_id("answered").is_visible()

    page.reload()
    assert "请带房产证或租房合同到服务站办理" in page.get_by_test_id("section-corrections").inner_text()

    # staff can record that someone left: find the person, see what would happen (not confirmed here)
    staff.get_by_test_id("departures-link").click()
    staff.wait_for_url("**/my-data/departures/")
    staff.get_by_label("姓名、拼音、身份证号或电话").fill("13900000001")
    staff.get_by_role("button", name="查找").click()
    check_page(staff, "privacy-departures", elder=elder)
    staff.get_by_test_id("found").get_by_role("link", name="登记注销").first.click()
    assert staff.get_by_test_id("departure-form").is_visible()
    check_page(staff, "privacy-departure-new", elder=elder)
