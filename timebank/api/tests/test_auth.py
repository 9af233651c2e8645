"""Tokens: stored hashed, scoped, revocable, rate-limited; the session works too (with CSRF)."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from timebank.api.models import ApiToken
from timebank.api.services import token_create, token_revoke
from timebank.common.errors import InvalidInput

from .conftest import assert_error, counts

pytestmark = pytest.mark.django_db


def test_token_is_stored_as_a_hash_and_shown_once(social_worker):
    issued = token_create(user=social_worker, name="sync", scopes=["read", "write", "read"])
    row = ApiToken.objects.get(pk=issued.token.pk)
    assert row.token_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.secret not in (row.token_hash, row.prefix, row.name)
    assert issued.secret.startswith(f"tb_{row.prefix}_")
    assert row.scopes == ["read", "write"]


def test_token_create_refuses_unknown_scopes_and_empty_names(social_worker):
    with pytest.raises(InvalidInput):
        token_create(user=social_worker, name="x", scopes=["admin"])
    with pytest.raises(InvalidInput):
        token_create(user=social_worker, name=" ", scopes=["read"])
    assert not ApiToken.objects.exists()


def test_me_with_a_token(api, token, social_worker):
    r = api.get("/me", token=token(social_worker, "read"))
    assert r.status_code == 200
    body = r.json()
    assert body["via"] == "token" and body["scopes"] == ["read"]
    assert body["roles"][0]["role"] == "social_worker"


def test_no_credentials_is_401(api):
    body = assert_error(api.get("/me"), 401, "api.not_authenticated")
    assert "token" in body["message"]


def test_a_wrong_token_is_401(api, token, social_worker):
    good = token(social_worker)
    assert_error(api.get("/me", token=good[:-2] + "xx"), 401, "api.not_authenticated")
    assert_error(api.get("/me", token="not-a-token"), 401, "api.not_authenticated")


def test_a_revoked_token_is_401_and_writes_nothing(api, token, social_worker, world):
    secret = token(social_worker)
    row = ApiToken.objects.get(user=social_worker)
    token_revoke(actor=social_worker, token=row)
    before = counts()
    assert_error(api.get("/me", token=secret), 401, "api.token_revoked")
    r = api.post(
        "/needs",
        {
            "elder_id": world.elder.pk,
            "item": "chat",
            "window_start": "2030-01-01T09:00:00+08:00",
            "window_end": "2030-01-01T10:00:00+08:00",
        },
        token=secret,
    )
    assert_error(r, 401, "api.token_revoked")
    assert counts() == before


def test_only_the_owner_revokes(token, social_worker, town_admin):
    token(social_worker)
    row = ApiToken.objects.get(user=social_worker)
    with pytest.raises(Exception, match="not_allowed"):
        token_revoke(actor=town_admin, token=row)


def test_a_token_without_the_scope_is_403_and_writes_nothing(api, token, world):
    read_only = token(world.worker, "read")
    no_ledger = token(world.son, "read", "write")
    before = counts()
    r = api.post(
        "/needs",
        {
            "elder_id": world.elder.pk,
            "item": "chat",
            "window_start": "2030-01-01T09:00:00+08:00",
            "window_end": "2030-01-01T10:00:00+08:00",
        },
        token=read_only,
    )
    body = assert_error(r, 403, "api.missing_scope")
    assert "write" in body["message"]
    r = api.post("/ledger/donations", {"minutes": 60, "key": "donate-0001"}, token=no_ledger)
    assert_error(r, 403, "api.missing_scope")
    assert counts() == before


def test_rate_limit_is_429_with_retry_after(api, token, social_worker, settings):
    settings.API_RATE_LIMIT = 3
    secret = token(social_worker, "read")
    for _ in range(3):
        assert api.get("/me", token=secret).status_code == 200
    r = api.get("/me", token=secret)
    assert_error(r, 429, "api.rate_limited")
    assert int(r["Retry-After"]) >= 1
    other = token(social_worker, "read")  # counted per account: a new token buys no more requests
    assert_error(api.get("/me", token=other), 429, "api.rate_limited")


def test_last_used_is_recorded(api, token, social_worker):
    secret = token(social_worker, "read")
    assert ApiToken.objects.get().last_used_at is None
    api.get("/me", token=secret)
    assert ApiToken.objects.get().last_used_at is not None


def test_session_auth_reads_and_needs_csrf_to_write(social_worker, world):
    from .conftest import Api

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.worker)
    api = Api(client)
    r = api.get("/me")
    assert r.status_code == 200 and r.json()["via"] == "session"
    before = counts()
    r = api.post("/needs/1/cancel", {"reason": "x"})
    assert_error(r, 403)
    assert counts() == before


def test_messages_follow_accept_language(api):
    zh = api.get("/me", lang="zh-Hans").json()["message"]
    en = api.get("/me", lang="en").json()["message"]
    assert zh != en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) or zh == en  # translated when the catalogue has it


def test_management_command_prints_the_token_once(social_worker):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "api_token_create", phone=social_worker.username, name="cli", scopes="read,ledger", stdout=out, stderr=err
    )
    secret = out.getvalue().strip().splitlines()[-1]
    row = ApiToken.objects.get()
    assert row.scopes == ["read", "ledger"]
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    with pytest.raises(CommandError):
        call_command("api_token_create", phone="13999999999", name="cli", scopes="read")
    with pytest.raises(CommandError):
        call_command("api_token_create", phone=social_worker.username, name="cli", scopes="root")
