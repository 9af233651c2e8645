"""Browser tests: Debian's chromium, driven by Playwright, against a real server with the tiny demo city.

One server for the whole session: a fresh SQLite database in a temporary folder, migrated and seeded with
``seed_demo --scale tiny``, static files collected, served by gunicorn with DEBUG off (so the styled error
pages are what people see) and with production's settings (timebank.web.production_env: fresh random keys,
HTTPS with a self-signed certificate made here, secure cookies, HSTS, the HTTPS redirect, a Redis broker,
two-factor login for staff). Scripts that change the server's database use :data:`SERVER_ENV` (the same
keys, or they could not read the encrypted ID numbers). Tests log in with the demo accounts (password
``demo-2026``); town admins and the city supervisor then type the code of the demo's published TOTP key.

Helpers: :func:`login`, :func:`check_page` (axe-core with the WCAG 2.2 AA tags, our own 长辈版 checks, no
Content-Security-Policy violation, a screenshot into ``test-artifacts/screenshots``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import TOTP

from timebank.common.management.demo import DEMO_TOTP_KEY_HEX
from timebank.web.production_env import production_env

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
#: Demo accounts whose login needs a TOTP code (timebank.people.second_factor).
SECOND_FACTOR = {"supervisor", "town_admin", "13800000001"} | {f"138000010{n:02d}" for n in range(1, 25)}

#: The environment of the test server (filled in by the ``site`` fixture): scripts that write to its
#: database must run with it.
SERVER_ENV: dict[str, str] = {}


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


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day: the test server speaks HTTPS."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "timebank browser tests")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def _redis_answers(url: str) -> bool:
    host, _, port = url.split("//", 1)[1].split("/", 1)[0].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 6379)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (https://127.0.0.1:port) of a live server with the tiny demo city and production settings."""
    folder = tmp_path_factory.mktemp("site")
    port = _free_port()
    env = production_env(
        DATABASE_URL=f"sqlite:///{folder / 'site.sqlite3'}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        STATIC_ROOT=str(folder / "static"),
        AXES_FAILURE_LIMIT="50",
        PYTHONUNBUFFERED="1",
    )
    if not _redis_answers(env["CELERY_BROKER_URL"]):
        raise RuntimeError(
            f"the test server needs a Celery broker (production refuses to start without one): nothing answers at "
            f"{env['CELERY_BROKER_URL']}; start Redis (.ci/run does) or set CELERY_BROKER_URL"
        )
    SERVER_ENV.clear()
    SERVER_ENV.update(env)
    cert_file, key_file = _self_signed_certificate(folder)
    manage = [sys.executable, str(ROOT / "manage.py")]
    for args in (["migrate", "-v0"], ["seed_demo", "--scale", "tiny"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([*manage, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [
            *(gunicorn, "timebank.wsgi", "-b", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "60"),
            *("--certfile", str(cert_file), "--keyfile", str(key_file)),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"https://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=str(cert_file))
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/login/", timeout=2, context=trust)
            break
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.2)
    else:
        server.terminate()
        raise RuntimeError(f"the test server did not start; see {folder / 'server.log'}")
    yield base
    server.terminate()
    try:
        server.wait(timeout=30)  # gunicorn lets its workers finish their requests first
    except subprocess.TimeoutExpired:
        server.kill()
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
        context = browser.new_context(
            viewport={"width": size[0], "height": size[1]}, locale=lang, base_url=site, ignore_https_errors=True
        )
        if elder:
            context.add_cookies([{"name": "elder_mode", "value": "1", "url": site}])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        watch_csp(page)
        return page

    yield make
    for context in contexts:
        context.close()


#: The last TOTP time step used per demo account: a code works once, so the next login uses a later step.
_LAST_STEP: dict[str, int] = {}


def totp_code(phone: str) -> str:
    """A code of the demo key not used before for ``phone``: this 30-second step's, else the next one's
    (accepted one step early), else wait for the next step."""
    totp = TOTP(bytes.fromhex(DEMO_TOTP_KEY_HEX))
    while True:
        now = totp.t()
        step = max(now, _LAST_STEP.get(phone, -1) + 1)
        if step <= now + 1:
            _LAST_STEP[phone] = step
            totp.drift = step - now
            return f"{totp.token():06d}"
        time.sleep(max(0.5, 30 - time.time() % 30))


def login(page: Any, who: str) -> None:
    """Log in as a demo account (a key of LOGINS, or a phone number) and land on the home page.

    Town admins and the city supervisor then confirm with a code of the demo's authenticator key."""
    phone = LOGINS.get(who, who)
    page.goto("/login/")
    page.fill("input[name=username]", phone)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form.form button[type=submit]").click()
    if who in SECOND_FACTOR or phone in SECOND_FACTOR:
        page.wait_for_url("**/account/two-factor/**")
        page.fill("input[name=code]", totp_code(phone))
        page.get_by_test_id("confirm-code").click()
    page.wait_for_url("**/")


def watch_csp(page: Any) -> None:
    """Collect the page's Content-Security-Policy violations (console errors and securitypolicyviolation
    events) in ``page.csp_violations``; :func:`check_page` fails on any."""
    found: list[str] = []
    page.csp_violations = found

    def on_console(message: Any) -> None:
        text = message.text
        if message.type == "error" and "Content Security Policy" in text:
            found.append(text)

    page.on("console", on_console)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' at ' + "
        "e.sourceFile + ':' + e.lineNumber));"
    )


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

#: The 长辈版 checks run in the page: body text ≥ 18 px, line height ≥ 1.3, targets ≥ 60×60, contrast ≥ 7:1.
_ELDER_CHECKS = (Path(__file__).parent / "elder_checks.js").read_text(encoding="utf-8")


def check_page(page: Any, name: str, *, elder: bool = False) -> None:
    """axe-core finds no serious or critical violation; in 长辈版 also sizes, targets and contrast; screenshot."""
    from axe_playwright_python.sync_playwright import Axe

    violations = getattr(page, "csp_violations", [])
    assert not violations, f"{name}: Content-Security-Policy violations: {violations[:5]}"
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
