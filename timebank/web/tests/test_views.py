"""Web pages: phone + password login with lock-out, the first page, language and 长辈版 switches."""

import pytest
from django.urls import reverse

from timebank.conftest import PASSWORD
from timebank.people import services
from timebank.people.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/login/"


@pytest.fixture
def volunteer_user(make_resident):
    r = make_resident(name="李志愿", age=30, roles=["volunteer"], phone="13800138000")
    return services.login_create(actor=None, resident=r, password=PASSWORD)


def login(client, phone, password=PASSWORD):
    return client.post(LOGIN, {"username": phone, "password": password})


@pytest.mark.parametrize("written", ["13800138000", "138 0013 8000", "+86 13800138000", "138-0013-8000"])
def test_login_with_phone_as_people_write_it(client, volunteer_user, written):
    response = login(client, written)
    assert response.status_code == 302 and response["Location"] == reverse("web:home")
    assert int(client.session["_auth_user_id"]) == volunteer_user.pk


def test_wrong_password_is_a_form_error(client, volunteer_user):
    response = login(client, "13800138000", "wrong")
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert response.context["form"].non_field_errors()


@pytest.mark.parametrize("phone", ["12345", "abc", "1380013800", ""])
def test_malformed_phone_is_a_form_error_not_a_500(client, phone):
    response = login(client, phone)
    assert response.status_code == 400
    assert response.context["form"].errors["username"]
    assert "_auth_user_id" not in client.session


def test_malformed_phone_message_in_english(client):
    client.cookies["django_language"] = "en"
    body = login(client, "12345").content.decode()
    assert "The phone number is not valid" in body


def test_five_wrong_passwords_lock_the_phone_number(client, volunteer_user):
    # the five failures may be written in different ways: they count against one number
    for written in ["13800138000", "138 0013 8000", "+86 13800138000", "138-0013-8000"]:
        assert login(client, written, "wrong").status_code == 400
    locked = login(client, "13800138000", "wrong")
    assert locked.status_code == 429
    assert "web/locked_out.html" in [t.name for t in locked.templates]
    # now even the right password is refused
    again = login(client, "138 0013 8000")
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_phone_number(client, volunteer_user, make_resident):
    other = services.login_create(actor=None, resident=make_resident(age=40, phone="13800138001"), password=PASSWORD)
    for _ in range(5):
        login(client, "13800138000", "wrong")
    assert login(client, "13800138001").status_code == 302
    assert int(client.session["_auth_user_id"]) == other.pk


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=/")


def test_home_shows_staff_role_and_region(client, town_admin, social_worker):
    client.cookies["django_language"] = "en"
    client.force_login(town_admin)
    body = client.get("/").content.decode()
    assert "Town administrator" in body and "石岐街道" in body
    client.force_login(social_worker)
    body = client.get("/").content.decode()
    assert "Social worker" in body and "莲峰社区" in body and "莲峰社区服务站" in body


def test_home_shows_resident_facts(client, volunteer_user):
    client.cookies["django_language"] = "en"
    client.force_login(volunteer_user)
    body = client.get("/").content.decode()
    assert "Hello, 李志愿" in body
    assert "石岐街道 莲峰社区" in body
    assert "Volunteer" in body


def test_language_switch(client, town_admin):
    client.force_login(town_admin)
    assert '<html lang="zh-hans">' in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    body = client.get("/").content.decode()
    assert '<html lang="en">' in body
    assert "Town administrator" in body
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


def test_login_page_language_switch_for_anonymous(client):
    client.post("/i18n/setlang/", {"language": "en", "next": LOGIN})
    assert '<html lang="en">' in client.get(LOGIN).content.decode()


def test_elder_mode_switch_sets_cookie_body_class_and_account(client, volunteer_user):
    client.force_login(volunteer_user)
    assert 'class="elder"' not in client.get("/").content.decode()
    response = client.post("/elder-mode/", {"on": "1", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert response.cookies["elder_mode"].value == "1"
    assert '<body class="elder">' in client.get("/").content.decode()
    assert User.objects.get(pk=volunteer_user.pk).elder_mode is True
    # a new device without the cookie: the account remembers
    from django.test import Client

    fresh = Client()
    fresh.force_login(User.objects.get(pk=volunteer_user.pk))
    assert '<body class="elder">' in fresh.get("/").content.decode()
    # switching off
    client.post("/elder-mode/", {"on": "0", "next": "/"})
    assert '<body class="elder">' not in client.get("/").content.decode()
    assert User.objects.get(pk=volunteer_user.pk).elder_mode is False


def test_elder_mode_for_anonymous_uses_the_cookie_only(client):
    response = client.post("/elder-mode/", {"on": "1", "next": LOGIN})
    assert response["Location"] == LOGIN
    assert '<body class="elder">' in client.get(LOGIN).content.decode()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"]
)
def test_elder_mode_never_redirects_off_site(client, target):
    response = client.post("/elder-mode/", {"on": "1", "next": target})
    assert response["Location"] == "/"


def test_elder_mode_needs_post(client):
    assert client.get("/elder-mode/").status_code == 405


def test_logout(client, town_admin):
    client.force_login(town_admin)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
