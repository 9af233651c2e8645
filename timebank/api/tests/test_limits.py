"""Rate limits (per account, tokens and session together; per address), JSON-only bodies (415), token
expiry. The limits across worker processes are in test_throttle_processes.py."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from timebank.api import throttle
from timebank.api.models import ApiToken, RateCounter
from timebank.api.services import MAX_EXPIRY_DAYS, token_create
from timebank.common.errors import InvalidInput

from .conftest import Api, assert_error, counts

pytestmark = pytest.mark.django_db


def _need(world):
    return {
        "elder_id": world.elder.pk,
        "item": "chat",
        "window_start": world.start.isoformat(),
        "window_end": (world.start + dt.timedelta(hours=1)).isoformat(),
    }


# ------------------------------------------------------------------------------------------- rate limits


def test_session_api_calls_are_limited_and_share_the_accounts_count(social_worker, token, settings):
    settings.API_RATE_LIMIT = 4
    client = Client()
    client.force_login(social_worker)
    api = Api(client)
    for _ in range(2):
        assert api.get("/me").status_code == 200
    secret = token(social_worker, "read")
    for _ in range(2):
        assert api.get("/me", token=secret).status_code == 200
    r = api.get("/me", lang="zh-Hans")  # the 5th request of this account, by session
    body = assert_error(r, 429, "api.rate_limited")
    assert "请求过于频繁" in body["message"] and r["Retry-After"] in body["message"]
    assert 1 <= int(r["Retry-After"]) <= settings.API_RATE_WINDOW_SECONDS
    assert_error(api.get("/me", token=secret), 429, "api.rate_limited")


def test_another_account_is_not_slowed_by_a_busy_one(api, token, social_worker, town_admin, settings):
    settings.API_RATE_LIMIT = 2
    busy = token(social_worker, "read")
    for _ in range(3):
        api.get("/me", token=busy)
    assert_error(api.get("/me", token=busy), 429)
    assert api.get("/me", token=token(town_admin, "read")).status_code == 200


def test_one_address_is_limited_across_accounts_and_failed_tokens(token, social_worker, town_admin, settings):
    settings.API_RATE_LIMIT_PER_ADDRESS = 5
    here, there = Api(Client(REMOTE_ADDR="198.51.100.7")), Api(Client(REMOTE_ADDR="198.51.100.8"))
    a, b = token(social_worker, "read"), token(town_admin, "read")
    assert here.get("/me", token=a).status_code == 200
    assert here.get("/me", token=b).status_code == 200
    for _ in range(3):  # guesses count too
        assert_error(here.get("/me", token="tb_000000000000_" + "x" * 40), 401)
    r = here.get("/me", token=a, lang="en")
    body = assert_error(r, 429, "api.rate_limited")
    assert body["message"] == f"Too many requests. Try again in {r['Retry-After']} seconds."
    assert there.get("/me", token=a).status_code == 200  # another address is not slowed


def test_x_forwarded_for_is_trusted_only_behind_a_configured_proxy(token, social_worker, settings):
    settings.API_RATE_LIMIT_PER_ADDRESS = 2
    api = Api(Client(REMOTE_ADDR="198.51.100.9"))
    secret = token(social_worker, "read")
    for i in range(2):
        assert api.get("/me", token=secret, headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code == 200
    # without a trusted proxy a client cannot choose its address: the header changed nothing
    assert_error(api.get("/me", token=secret, headers={"X-Forwarded-For": "203.0.113.50"}), 429)
    settings.TRUSTED_PROXY_COUNT = 1
    assert api.get("/me", token=secret, headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.51"}).status_code == 200


def test_ipv6_addresses_count_by_their_64_block():
    assert throttle.address_key("2001:db8:1:2::5") == throttle.address_key("2001:db8:1:2:ffff::9")
    assert throttle.address_key("2001:db8:1:3::5") != throttle.address_key("2001:db8:1:2::5")
    assert throttle.address_key(None) == "addr:unknown"


def test_database_counts_are_atomic_and_old_windows_are_dropped():
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, 5, tzinfo=dt.UTC), tick=False):
        for n in range(1, 4):
            assert throttle.count("user:1", window=60).hits == n
        assert throttle.count("user:1", window=60).retry_after == 55
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 1, 1, tzinfo=dt.UTC), tick=False):
        assert throttle.count("user:1", window=60).hits == 1  # a new window
    assert RateCounter.objects.count() == 1  # the ended window was dropped when the new one opened


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379")
def test_with_redis_configured_the_counts_go_to_redis(settings, api, token, social_worker):
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"test-{timezone.now().timestamp()}",
        },
    }
    settings.API_RATE_LIMIT = 2
    secret = token(social_worker, "read")
    assert api.get("/me", token=secret).status_code == 200
    assert api.get("/me", token=secret).status_code == 200
    assert_error(api.get("/me", token=secret), 429)
    assert not RateCounter.objects.exists()
    caches["throttle"].clear()


def test_an_unreachable_redis_falls_back_to_the_database(settings, api, token, social_worker):
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2},
        },
    }
    assert api.get("/me", token=token(social_worker, "read")).status_code == 200
    assert RateCounter.objects.exists()


# ------------------------------------------------------------------------------------- JSON bodies only


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json; charset=latin-1",
        "",
    ],
)
def test_a_body_that_is_not_json_is_415_in_the_users_language(api, token, world, content_type):
    secret = token(world.worker)
    before = counts()
    body = json.dumps(_need(world))
    r = api.client.post(
        "/api/v1/needs",
        data=body,
        content_type=content_type,
        headers={"Authorization": f"Bearer {secret}", "Accept-Language": "zh-Hans"},
    )
    err = assert_error(r, 415, "api.unsupported_media_type")
    assert "JSON" in err["message"] and "请求内容" in err["message"]
    # also where the endpoint reads no body
    r = api.client.post(
        "/api/v1/needs/1/cancel",
        data="x",
        content_type=content_type,
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert_error(r, 415, "api.unsupported_media_type")
    assert counts() == before


def test_json_content_types_are_accepted(api, token, world):
    secret = token(world.worker)
    for content_type in ("application/json", "application/json; charset=utf-8", "application/merge-patch+json"):
        r = api.client.post(
            "/api/v1/needs", data=json.dumps(_need(world)), content_type=content_type,
            headers={"Authorization": f"Bearer {secret}"},
        )  # fmt: skip
        assert r.status_code == 201, (content_type, r.content)


def test_a_compressed_or_chunked_body_is_refused(api, token, world):
    secret = token(world.worker)
    before = counts()
    h = {"Authorization": f"Bearer {secret}"}
    r = api.client.post(
        "/api/v1/needs", data=b"\x1f\x8b", content_type="application/json", headers=h | {"Content-Encoding": "gzip"}
    )
    assert_error(r, 415, "api.unsupported_media_type")
    r = api.client.generic(
        "POST", "/api/v1/needs", b"", content_type="application/json", headers=h | {"Transfer-Encoding": "chunked"}
    )
    assert_error(r, 411, "api.length_required")
    assert counts() == before


def test_the_body_limit_names_the_number(api, token, world, settings):
    settings.API_MAX_BODY_BYTES = 100
    r = api.post("/needs", _need(world) | {"notes": "x" * 200}, token=token(world.worker), lang="zh-Hans")
    assert "100" in assert_error(r, 413, "api.body_too_large")["message"]
    settings.API_MAX_BODY_BYTES = 10_000_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 150
    r = api.post("/needs", _need(world) | {"notes": "x" * 200}, token=token(world.worker), lang="en")
    body = assert_error(r, 413, "api.body_too_large")
    assert "?" not in body["message"] and "150" in body["message"]


def test_a_failed_csrf_check_is_explained_in_chinese(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.worker)
    before = counts()
    r = Api(client).post("/needs", _need(world), lang="zh-Hans")
    body = assert_error(r, 403, "api.csrf_failed")
    assert "安全校验" in body["message"] and "Forbidden" not in body["message"]
    assert counts() == before


def test_a_staff_token_moving_hours_is_told_so_in_chinese(api, token, world):
    r = api.post("/ledger/donations", {"minutes": 60, "key": "donate-0001"}, token=token(world.worker), lang="zh-Hans")
    body = assert_error(r, 403, "api.no_resident")
    assert "居民" in body["message"]


# ----------------------------------------------------------------------------------------- token expiry


def test_a_token_may_expire_and_then_is_refused_with_a_clear_message(api, social_worker):
    issued = token_create(user=social_worker, name="sync", scopes=["read"], expires_in_days=30)
    expiry_day = timezone.localdate() + dt.timedelta(days=30)
    assert timezone.localdate(issued.token.expires_at) == expiry_day
    me = api.get("/me", token=issued.secret).json()
    assert me["token_prefix"] == issued.token.prefix
    assert dt.datetime.fromisoformat(me["token_expires_at"]) == issued.token.expires_at
    with time_machine.travel(issued.token.expires_at - dt.timedelta(seconds=1)):
        assert api.get("/me", token=issued.secret).status_code == 200
    with time_machine.travel(issued.token.expires_at):
        body = assert_error(api.get("/me", token=issued.secret, lang="en"), 401, "api.token_expired")
        assert expiry_day.isoformat() in body["message"]
        zh = assert_error(api.get("/me", token=issued.secret, lang="zh-Hans"), 401)["message"]
        assert "过期" in zh


def test_a_token_without_expiry_never_expires(api, social_worker):
    issued = token_create(user=social_worker, name="sync", scopes=["read"])
    assert issued.token.expires_at is None
    assert api.get("/me", token=issued.secret).json()["token_expires_at"] is None


@pytest.mark.parametrize("days", [0, -1, MAX_EXPIRY_DAYS + 1, True, 1.5, "30"])
def test_an_impossible_expiry_is_refused(social_worker, days):
    with pytest.raises(InvalidInput) as caught:
        token_create(user=social_worker, name="sync", scopes=["read"], expires_in_days=days)
    assert caught.value.code == "api.bad_expiry"
    assert not ApiToken.objects.exists()


def test_the_tokens_page_offers_and_shows_the_expiry(social_worker):
    client = Client()
    client.force_login(social_worker)
    r = client.post("/account/tokens/", {"name": "sync", "scopes": ["read"], "expires": "90"})
    assert r.status_code == 200
    row = ApiToken.objects.get()
    assert timezone.localdate(row.expires_at) == timezone.localdate() + dt.timedelta(days=90)
    page = client.get("/account/tokens/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"可用到 {timezone.localdate(row.expires_at):%Y-%m-%d}" in page
    client.post("/account/tokens/", {"name": "forever", "scopes": ["read"], "expires": ""})
    assert ApiToken.objects.get(name="forever").expires_at is None
    with time_machine.travel(row.expires_at + dt.timedelta(days=1)):
        client.force_login(social_worker)
        assert "已于" in client.get("/account/tokens/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_the_tokens_page_answers_400_on_a_refused_entry(social_worker):
    client = Client()
    client.force_login(social_worker)
    assert client.post("/account/tokens/", {"name": "", "scopes": ["read"]}).status_code == 400
    assert client.post("/account/tokens/", {"name": "x", "scopes": []}).status_code == 400
    assert client.post("/account/tokens/", {"name": "x", "scopes": ["read"], "expires": "7"}).status_code == 400
    assert not ApiToken.objects.exists()
