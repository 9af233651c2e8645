"""Bad input of every kind: a 4xx with the standard shape, and nothing written."""

from __future__ import annotations

import json

import pytest

from .conftest import assert_error, counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(api, token, world):
    return api, token(world.worker), world


def _need(world, **kw):
    return {
        "elder_id": world.elder.pk,
        "item": "chat",
        "window_start": world.start.isoformat(),
        "window_end": world.start.replace(hour=(world.start.hour + 1) % 24).isoformat(),
        **kw,
    }


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b'{"elder_id": 1,}', b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b'{"lat": Infinity}'],
    ids=["truncated", "text", "trailing-comma", "not-utf8", "deep", "infinity"],
)
def test_malformed_json_is_400(ctx, raw):
    api, t, _world = ctx
    before = counts()
    assert_error(api.post("/needs", raw=raw, token=t), 400)
    assert counts() == before


@pytest.mark.parametrize(
    "change",
    [
        {"elder_id": "one"},
        {"elder_id": 2**64},
        {"elder_id": -1},
        {"elder_id": None},
        {"weeks": 1.5},
        {"weeks": True and "x"},
        {"lat": "NaN"},
        {"lat": 1e308},
        {"notes": ["a"]},
        {"notes": "a\x00b"},
        {"notes": "\ud800"},
        {"notes": "x" * 5000},
        {"pref_gender": "X"},
        {"window_start": "yesterday"},
        {"window_start": "2030-01-01T09:00:00"},
        {"unknown_field": 1},
    ],
    ids=lambda c: next(iter(c)) + ":" + repr(next(iter(c.values())))[:20],
)
def test_wrong_types_and_unknown_fields_are_400_with_details(ctx, change):
    api, t, world = ctx
    before = counts()
    body = assert_error(api.post("/needs", _need(world, **change), token=t), 400, "invalid_input")
    assert body["details"] and body["details"][0]["field"] == next(iter(change))
    assert counts() == before


def test_a_body_that_is_not_an_object_is_400(ctx):
    api, t, _world = ctx
    for raw in ("[]", '"text"', "42", "null"):
        assert_error(api.post("/needs", raw=raw, token=t), 400)


def test_a_missing_body_is_400(ctx):
    api, t, _world = ctx
    assert_error(api.post("/needs", raw="", token=t), 400, "invalid_input")


def test_a_huge_payload_is_413(ctx, settings):
    api, t, world = ctx
    before = counts()
    body = _need(world, notes="字" * 100_000)
    r = api.post("/needs", raw=json.dumps(body), token=t)
    assert_error(r, 413, "api.body_too_large")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.API_MAX_BODY_BYTES = 10_000_000
    assert_error(api.post("/needs", raw=json.dumps(body), token=t), 413, "api.body_too_large")
    assert counts() == before


@pytest.mark.parametrize("path", ["/needs/0", "/needs/-3", f"/needs/{2**70}", "/needs/abc", "/visits/1.5"])
def test_bad_ids_in_the_path_are_4xx(ctx, path):
    api, t, _world = ctx
    r = api.get(path, token=t)
    assert r.status_code in (400, 404)
    if r.status_code == 400 or r["Content-Type"].startswith("application/json"):
        assert_error(r, r.status_code)


def test_bad_query_parameters_are_400(ctx):
    api, t, _world = ctx
    assert_error(api.get("/needs", token=t, limit=0), 400)
    assert_error(api.get("/needs", token=t, offset=-1), 400)
    assert_error(api.get("/needs", token=t, status="sleeping"), 400)
    assert_error(api.get("/needs", token=t, starts_after="2030-01-01T00:00:00"), 400)
    assert_error(api.get("/people/residents", token=t, q="a\x00b"), 400)


def test_messages_are_in_chinese_by_default(ctx):
    api, t, world = ctx
    zh = assert_error(api.get("/needs/999999", token=t, lang="zh-Hans"), 404)["message"]
    en = assert_error(api.get("/needs/999999", token=t, lang="en"), 404)["message"]
    assert en == "Not found." and zh != en
    body = assert_error(api.post("/needs", _need(world, weeks=0), token=t, lang="zh-Hans"), 400)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
