"""My API tokens page: make a token (shown once), use it, revoke it after a confirmation; others' are not mine."""

import pytest
from django.test import Client

from timebank.api.models import ApiToken
from timebank.conftest import PASSWORD
from timebank.people import services
from timebank.web.tests.test_views import login

pytestmark = pytest.mark.django_db

TOKENS = "/account/tokens/"


@pytest.fixture
def alice(make_resident):
    r = make_resident(name="李志愿", age=30, roles=["volunteer"], phone="13800138000")
    return services.login_create(actor=None, resident=r, password=PASSWORD)


@pytest.fixture
def bob(make_resident):
    r = make_resident(name="王志愿", age=31, roles=["volunteer"], phone="13800138001")
    return services.login_create(actor=None, resident=r, password=PASSWORD)


def signed_in(phone: str) -> Client:
    client = Client()
    assert login(client, phone).status_code == 302
    return client


def test_signed_out_people_are_sent_to_the_login_page(client):
    response = client.get(TOKENS)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_make_use_and_revoke_a_token(alice):
    client = signed_in("13800138000")
    page = client.get(TOKENS)
    assert page.status_code == 200 and page.context["rows"] == []
    made = client.post(TOKENS, {"name": "街道台账脚本", "scopes": ["read"]})
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    secret = made.context["issued"].secret
    assert secret in made.content.decode()
    row = ApiToken.objects.get(user=alice)
    assert row.scopes == ["read"] and secret not in (row.token_hash, row.prefix)
    # the secret is not shown again
    assert secret not in client.get(TOKENS).content.decode()
    # it works on the API, then is revoked after a confirmation
    api = Client()
    assert api.get("/api/v1/catalogue/items", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    ask = client.get(f"/account/tokens/{row.pk}/revoke/")
    assert ask.status_code == 200 and "街道台账脚本" in ask.content.decode()
    assert ApiToken.objects.get(pk=row.pk).revoked_at is None  # asking changes nothing
    done = client.post(f"/account/tokens/{row.pk}/revoke/", {"step": "confirm"})
    assert done.status_code == 302 and done["Location"].endswith("?done=revoked")
    assert ApiToken.objects.get(pk=row.pk).revoked_at is not None
    assert api.get("/api/v1/catalogue/items", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


@pytest.mark.parametrize(
    "form",
    [
        {"name": "", "scopes": ["read"]},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
        {"name": "x" * 81, "scopes": ["read"]},
    ],
)
def test_bad_input_is_a_form_error_and_makes_nothing(alice, form):
    client = signed_in("13800138000")
    response = client.post(TOKENS, form)
    assert response.status_code == 400 and response.context["form"].errors
    assert "issued" not in response.context
    assert not ApiToken.objects.exists()


def test_someone_elses_token_cannot_be_revoked(alice, bob):
    from timebank.api.services import token_create

    theirs = token_create(user=bob, name="bob's", scopes=["read"]).token
    client = signed_in("13800138000")
    assert client.get(f"/account/tokens/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/account/tokens/{theirs.pk}/revoke/", {"step": "confirm"}).status_code == 404
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    assert "bob's" not in client.get(TOKENS).content.decode()
