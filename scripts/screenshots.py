"""Take the README screenshots with Debian's chromium (never a downloaded browser).

Usage: start a server with the demo city (``make run``), then
    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]
Writes docs/screenshots/*.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=1, locale="zh-CN")
        page.goto(f"{BASE}/login/")
        page.get_by_role("button", name="长辈版").click()
        page.screenshot(path=str(OUT / "login-elder.png"), full_page=True)
        page.fill("input[name=username]", "13900000001")
        page.fill("input[name=password]", "demo-2026")
        page.locator("form.form button[type=submit]").click()
        page.get_by_role("button", name="标准版").click()
        page.screenshot(path=str(OUT / "volunteer-home.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
