"""Sessions and passwords (issue 13, defect 5): staff two-factor login, staff idle timeout, password change.

The suite's settings switch two-factor login and the idle timeout off (timebank/conftest.py); the
``secure_login`` fixture switches them on as production has them.
"""

from __future__ import annotations

import datetime as dt
import re
from base64 import b32decode, b32encode
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from timebank.conftest import PASSWORD
from timebank.people.models import Resident, User
from timebank.people.second_factor import totp_device_set

KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key


@pytest.fixture
def secure_login(settings: Any) -> Any:
    settings.OTP_REQUIRED_FOR_STAFF = True
    settings.STAFF_SESSION_IDLE_MINUTES = 30
    return settings


def _code(key_hex: str = KEY, *, ahead: int = 0) -> str:
    totp = TOTP(bytes.fromhex(key_hex), drift=ahead)
    return f"{totp.token():06d}"


def _login(client: Client, user: User, password: str = PASSWORD) -> Any:
    return client.post(reverse("web:login"), {"username": user.username, "password": password})


# --- two-factor login --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_town_admin_without_a_device_is_sent_to_set_one_up(secure_login: Any, client: Client, town_admin: User):
    _login(client, town_admin)
    response = client.get("/area/")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:account:two_factor_setup") + "?next=%2Farea%2F"

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and 'src="data:image/svg+xml' in html and 'data-testid="totp-qr"' in html
    assert "no-store" in page["Cache-Control"]
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")  # type: ignore[union-attr]
    key_hex = b32decode(secret).hex()
    assert TOTPDevice.objects.get(user=town_admin, confirmed=False).key == key_hex

    wrong = client.post(page.request["PATH_INFO"], {"code": "000000", "next": "/area/"})
    assert wrong.status_code == 400 and "验证码不对或已过期" in wrong.content.decode()
    assert client.get("/area/").status_code == 302  # still held at the second step

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)):  # the wrong code paused tries 1 s
        right = client.post(page.request["PATH_INFO"], {"code": _code(key_hex), "next": "/area/"})
    assert right.status_code == 302 and right["Location"] == "/area/"
    assert TOTPDevice.objects.get(user=town_admin).confirmed
    assert client.get("/area/").status_code == 200


@pytest.mark.django_db
def test_a_town_admin_with_a_device_confirms_each_login_and_a_code_works_once(
    secure_login: Any, client: Client, town_admin: User
):
    totp_device_set(user=town_admin, key_hex=KEY)
    assert _login(client, town_admin).status_code == 302
    held = client.get("/area/stations/")
    assert held["Location"].startswith(reverse("web:account:two_factor") + "?next=")
    code = _code()
    done = client.post(reverse("web:account:two_factor"), {"code": code, "next": "/area/"})
    assert done.status_code == 302 and done["Location"] == "/area/"
    assert client.get("/area/").status_code == 200

    other = Client()  # someone who saw the code and the password: the same code does not work again
    _login(other, town_admin)
    replay = other.post(reverse("web:account:two_factor"), {"code": code, "next": "/area/"})
    assert replay.status_code == 400
    assert other.get("/area/").status_code == 302


@pytest.mark.django_db
def test_the_code_page_refuses_an_outside_next(secure_login: Any, client: Client, town_admin: User):
    totp_device_set(user=town_admin, key_hex=KEY)
    _login(client, town_admin)
    done = client.post(reverse("web:account:two_factor"), {"code": _code(), "next": "https://evil.example/"})
    assert done.status_code == 302 and done["Location"] == reverse("web:home")


@pytest.mark.django_db
def test_wrong_codes_pause_the_tries(secure_login: Any, client: Client, supervisor: User):
    totp_device_set(user=supervisor, key_hex=KEY)
    _login(client, supervisor)
    url = reverse("web:account:two_factor")
    assert client.post(url, {"code": "000000"}).status_code == 400
    paused = client.post(url, {"code": _code()})  # right, but too soon after a wrong one
    assert paused.status_code == 400 and "请等" in paused.content.decode()
    assert client.get("/area/").status_code == 302
    bad_format = client.post(url, {"code": "12ab"})
    assert bad_format.status_code == 400 and "6 位数字" in bad_format.content.decode()


@pytest.mark.django_db
def test_an_unconfirmed_staff_session_cannot_use_the_api(secure_login: Any, client: Client, supervisor: User):
    totp_device_set(user=supervisor, key_hex=KEY)
    _login(client, supervisor)
    response = client.get("/api/v1/me")
    assert response.status_code == 403
    assert response.json()["code"] == "account.second_factor_required"


@pytest.mark.django_db
def test_an_operator_confirms_too_and_admin_is_held(secure_login: Any, client: Client, superuser: User):
    _login(client, superuser)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:account:two_factor_setup"))


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["social_worker", "partner_admin", "volunteer"])
def test_others_log_in_with_the_password_only(
    secure_login: Any, client: Client, who: str, request: pytest.FixtureRequest, make_resident: Callable[..., Resident]
):
    if who == "volunteer":
        from timebank.people.services import login_create

        resident = make_resident(roles=("volunteer",), phone="13912345678")
        user = login_create(actor=None, resident=resident, password=PASSWORD)
    else:
        user = request.getfixturevalue(who)
    assert _login(client, user).status_code == 302
    assert client.get(reverse("web:home")).status_code == 200


@pytest.mark.django_db
def test_with_the_setting_off_staff_are_not_held(settings: Any, client: Client, town_admin: User):
    settings.OTP_REQUIRED_FOR_STAFF = False
    _login(client, town_admin)
    assert client.get("/area/").status_code == 200


# --- idle timeout -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_staff_session_ends_after_30_idle_minutes(secure_login: Any, social_worker: User):
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        _login(client, social_worker)
        assert client.get("/station/").status_code == 200
        assert client.session.get_expiry_age() <= 30 * 60 + 3600  # not the 14 days of residents
        clock.move_to(start + dt.timedelta(minutes=25))
        assert client.get("/station/").status_code == 200  # in use: the clock starts again
        clock.move_to(start + dt.timedelta(minutes=25 + 31))
        response = client.get("/station/")
        assert response.status_code == 302
        assert response["Location"] == reverse("web:login") + "?why=idle&next=%2Fstation%2F"
        login_page = client.get(response["Location"])
        assert "长时间没有操作" in login_page.content.decode()
        assert client.get("/station/").status_code == 302  # logged out for good


@pytest.mark.django_db
def test_a_resident_session_has_no_idle_timeout(secure_login: Any, make_resident: Callable[..., Resident]):
    from timebank.people.services import login_create

    user = login_create(
        actor=None, resident=make_resident(roles=("volunteer",), phone="13912345679"), password=PASSWORD
    )
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        _login(client, user)
        clock.move_to(start + dt.timedelta(hours=6))
        assert client.get(reverse("web:home")).status_code == 200


# --- password change ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_everyone_can_change_their_password(client: Client, make_resident: Callable[..., Resident]):
    from timebank.people.services import login_create

    user = login_create(
        actor=None, resident=make_resident(roles=("volunteer",), phone="13912345670"), password=PASSWORD
    )
    url = reverse("web:account:password")
    assert client.get(url).status_code == 302  # log in first
    _login(client, user)
    page = client.get(url)
    assert page.status_code == 200 and "修改密码" in page.content.decode()

    wrong_old = client.post(
        url, {"old_password": "nope", "new_password1": "Lao-Wang-2027", "new_password2": "Lao-Wang-2027"}
    )
    assert wrong_old.status_code == 400
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 400 and "太常见" in weak.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # nothing changed

    done = client.post(
        url, {"old_password": PASSWORD, "new_password1": "Lao-Wang-2027", "new_password2": "Lao-Wang-2027"}
    )
    assert done.status_code == 302 and done["Location"] == url + "?done=1"
    assert client.get(reverse("web:home")).status_code == 200  # this session stays
    user.refresh_from_db()
    assert user.check_password("Lao-Wang-2027") and not user.check_password(PASSWORD)
    assert "密码已修改" in client.get(done["Location"]).content.decode()


@pytest.mark.django_db
def test_a_password_change_ends_the_other_sessions(town_admin: User):
    here, there = Client(), Client()
    _login(here, town_admin)
    _login(there, town_admin)
    new = "Shiqi-Admin-2027"
    here.post(reverse("web:account:password"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert here.get("/area/").status_code == 200
    assert there.get("/area/").status_code == 302


# --- the demo city ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_staff_who_need_a_code_get_the_published_key(
    town_admin: User, supervisor: User, social_worker: User
) -> None:
    from timebank.common.management.demo import DEMO_TOTP_KEY_HEX, SCALES, DemoContext
    from timebank.people.demo import give_demo_staff_a_second_factor

    ctx = DemoContext(seed=1, scale=next(iter(SCALES.values())), log=lambda _: None)
    ctx.staff = {"town_admin": [town_admin], "city_supervisor": [supervisor], "social_worker": [social_worker]}
    give_demo_staff_a_second_factor(ctx)
    keys = dict(TOTPDevice.objects.filter(confirmed=True).values_list("user__username", "key"))
    assert keys == {town_admin.username: DEMO_TOTP_KEY_HEX, supervisor.username: DEMO_TOTP_KEY_HEX}


def test_demo_logins_prints_the_key_the_readme_publishes_and_the_code() -> None:
    from io import StringIO
    from pathlib import Path

    from django.core.management import call_command

    from timebank.common.management.demo import DEMO_TOTP_KEY_HEX

    secret = b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode()
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    assert secret in readme
    out = StringIO()
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, 10, tzinfo=dt.UTC), tick=False):
        call_command("demo_logins", "--code", stdout=out)
        assert out.getvalue().strip() == _code(DEMO_TOTP_KEY_HEX)


# --- first passwords chosen by staff ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_login_made_by_staff_must_choose_its_own_password(
    client: Client, social_worker: User, make_resident: Callable[..., Resident]
) -> None:
    from timebank.people.services import login_create

    resident = make_resident(roles=("volunteer",), phone="13912345671")
    user = login_create(actor=social_worker, resident=resident, password="Station-Gave-2026")
    assert user.must_change_password
    client.post(reverse("web:login"), {"username": user.username, "password": "Station-Gave-2026"})
    held = client.get(reverse("web:home"))
    assert held.status_code == 302 and held["Location"] == reverse("web:account:password")
    assert client.get("/api/v1/me").json()["code"] == "account.password_change_required"
    page = client.get(reverse("web:account:password"))
    assert 'data-testid="password-must"' in page.content.decode()
    new = "My-Own-Pass-2027"
    done = client.post(
        reverse("web:account:password"),
        {"old_password": "Station-Gave-2026", "new_password1": new, "new_password2": new},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password(new)
    assert client.get(reverse("web:home")).status_code == 200


@pytest.mark.django_db
def test_staff_made_by_staff_choose_their_own_password_too(town_admin: User, site: Any) -> None:
    from timebank.people.services import staff_create

    made = staff_create(
        actor=town_admin,
        phone="13912345672",
        name="新社工",
        password="First-Pass-2026",
        role="social_worker",
        site=site,
    )
    assert made.must_change_password
    by_system = staff_create(
        actor=None, phone="13912345673", name="系统社工", password="First-Pass-2026", role="social_worker", site=site
    )
    assert not by_system.must_change_password  # the system's own (demo seeding, set-up commands)
