"""Browser tests: Debian's chromium, driven by Playwright, against a real server with the tiny demo city.

One server for the whole session: a fresh SQLite database in a temporary folder, migrated and seeded with
``seed_demo --scale tiny``, static files collected, served by gunicorn with DEBUG off (so the styled error
pages are what people see). Tests log in with the demo accounts (password ``demo-2026``).

Helpers: :func:`login`, :func:`check_page` (axe-core with the WCAG 2.2 AA tags, our own 长辈版 checks, a
screenshot into ``test-artifacts/screenshots``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[4]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "demo-2026"
PHONE = (375, 812)
DESKTOP = (1280, 900)

#: The demo logins (see timebank/people/demo.py and `manage.py demo_logins`).
LOGINS = {
    "supervisor": "13800000001",
    "town_admin": "13800001001",
    "social_worker": "13800002001",
    "partner_admin": "13800003001",
    "volunteer": "13900000001",
    "proxy": "13900000002",
    "elder": "13900000003",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    missing = not Path(CHROMIUM).exists()
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is missing (.ci/run installs Debian's chromium)"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a live server with the tiny demo city."""
    folder = tmp_path_factory.mktemp("site")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'site.sqlite3'}",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(folder / "static"),
        "AXES_FAILURE_LIMIT": "50",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    for args in (["migrate", "-v0"], ["seed_demo", "--scale", "tiny"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([*manage, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [gunicorn, "timebank.wsgi", "-b", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "60"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/login/", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.terminate()
        raise RuntimeError(f"the test server did not start; see {folder / 'server.log'}")
    yield base
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, site: str) -> Iterator[Any]:
    """``new_page(size=PHONE, elder=False, lang="zh-CN")`` → a page in a fresh context (own cookies)."""
    contexts = []

    def make(size: tuple[int, int] = PHONE, *, elder: bool = False, lang: str = "zh-CN") -> Any:
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale=lang, base_url=site)
        if elder:
            context.add_cookies([{"name": "elder_mode", "value": "1", "url": site}])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


def login(page: Any, who: str) -> None:
    """Log in as a demo account (a key of LOGINS, or a phone number) and land on the home page."""
    page.goto("/login/")
    page.fill("input[name=username]", LOGINS.get(who, who))
    page.fill("input[name=password]", PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url("**/")


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

#: The 长辈版 checks run in the page: body text ≥ 18 px, line height ≥ 1.3, targets ≥ 60×60, contrast ≥ 7:1.
_ELDER_CHECKS = (Path(__file__).parent / "elder_checks.js").read_text(encoding="utf-8")


def check_page(page: Any, name: str, *, elder: bool = False) -> None:
    """axe-core finds no serious or critical violation; in 长辈版 also sizes, targets and contrast; screenshot."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in bad)
    if elder:
        assert "elder" in (page.locator("body").get_attribute("class") or ""), f"{name}: 长辈版 is not on"
        problems = page.evaluate(_ELDER_CHECKS)
        assert not problems, f"{name} (长辈版): {problems[:8]}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(ARTIFACTS / f"{name}-{'elder' if elder else 'standard'}-{width}.png"), full_page=True)
