"""The ledger's published seal (/ledger/seal/): open to anyone, readable on a phone, in both modes."""

from __future__ import annotations

import re

import pytest

from .conftest import DESKTOP, PHONE, check_page


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_the_published_seal_without_login(new_page, elder):
    for size in (PHONE, DESKTOP):
        page = new_page(size, elder=elder)
        response = page.goto("/ledger/seal/")
        assert response.status == 200
        assert page.locator("h1").inner_text().strip() == "时间账本公示码"
        code = page.get_by_test_id("seal-hash")
        assert re.fullmatch(r"[0-9a-f]{64}", code.get_attribute("data-hash") or "")
        box = code.bounding_box()
        assert box is not None and box["x"] + box["width"] <= size[0]  # the long code wraps, no sideways scroll
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        check_page(page, f"ledger-seal-{size[0]}", elder=elder)


def test_the_published_seal_in_english(new_page):
    page = new_page(PHONE, lang="en-US")
    page.goto("/ledger/seal/")
    assert page.locator("h1").inner_text().strip() == "The ledger's published seal"
    assert page.locator("html").get_attribute("lang") == "en"
