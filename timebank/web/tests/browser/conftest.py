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
            urllib.request.urlopen(f"{base}/login/", timeout=2)  # noqa: S310 - our own local server
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

_ELDER_CHECKS = """
() => {
  const problems = [];
  const px = v => parseFloat(v || '0');
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
                     return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const background = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                             if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
  const body = getComputedStyle(document.body);
  if (px(body.fontSize) < 18) problems.push(`body text ${body.fontSize}`);
  if (px(body.lineHeight) / px(body.fontSize) < 1.3) problems.push(`line height ${body.lineHeight}`);
  for (const el of document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea, summary, [role=button]')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    if (el.classList.contains('skip')) continue;
    if (r.height < 59.5 || r.width < 59.5) problems.push(`target ${el.tagName} "${(el.innerText || el.value || el.name || '').trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement; const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none' || el.closest('.skip')) continue;
    const fg = rgb(st.color).slice(0, 3); const bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 7) problems.push(`contrast ${ratio.toFixed(2)} "${n.textContent.trim().slice(0, 20)}"`);
    if (px(st.fontSize) < 18) problems.push(`text ${st.fontSize} "${n.textContent.trim().slice(0, 20)}"`);
  }
  return problems;
}
"""


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
