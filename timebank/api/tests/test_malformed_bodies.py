"""Malformed bodies at every write endpoint of the OpenAPI schema: a 4xx in the caller's language with the
error shape, never a 500, and nothing written.

The operations come from the live schema (a new endpoint is covered the day it is added). Path ids point
at records that exist (the care ``world``: a need, a visit, a session …) where the path names one, so a
body that slipped through would reach the endpoint's action and show up as written rows.
"""

from __future__ import annotations

import json
import re
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

from timebank.api.api import api as ninja_api
from timebank.api.models import RateCounter

from .conftest import assert_error, counts

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")


def write_operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = ninja_api.get_openapi_schema()
    found = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method in UNSAFE:
                found.append((method, path.removeprefix("/api/v1"), op))
    return found


def _fill(path: str, ids: int) -> str:
    return re.sub(r"\{[^}]+\}", str(ids), path)


def _is_upload(op: dict[str, Any]) -> bool:
    return "multipart/form-data" in op.get("requestBody", {}).get("content", {})


def _body_fields(op: dict[str, Any]) -> list[str]:
    schema = ninja_api.get_openapi_schema()
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    ref = body.get("$ref", "")
    if ref:
        body = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return list(body.get("properties", {}))


#: name → (raw body, content type, the statuses that are right)
def malformed(op: dict[str, Any]) -> dict[str, tuple[bytes, str, set[int]]]:
    fields = _body_fields(op) or ["x"]
    huge = "1" + "0" * 5000
    if _is_upload(op):  # a file upload (the exchange imports): JSON of any kind is the wrong type
        return {
            "json-instead-of-a-file": (b'{"file": "x"}', "application/json", {415}),
            "text/plain": (b"name,id\n", "text/plain", {415}),
            "broken-multipart": (b"--zz\r\nbroken", "multipart/form-data; boundary=zz", {400}),
            "no-boundary": (b"--zz\r\nbroken", "multipart/form-data", {400}),
            "multipart-without-the-file": (
                b'--zz\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--zz--\r\n',
                "multipart/form-data; boundary=zz",
                {400},
            ),
        }
    return {
        "json-as-text/plain": (json.dumps(dict.fromkeys(fields, 1)).encode(), "text/plain", {415}),
        "form-encoded": (b"a=1&b=2", "application/x-www-form-urlencoded", {415}),
        "invalid-utf8": (b'{"' + fields[0].encode() + b'": "\xff\xfe"}', "application/json", {400}),
        "latin-1-charset": (b'{"x": 1}', "application/json; charset=latin-1", {415}),
        "deep-nesting": (b"[" * 20_000 + b"]" * 20_000, "application/json", {400}),
        "deep-objects": (b'{"a":' * 5000 + b"1" + b"}" * 5000, "application/json", {400}),
        "huge-number-text": (("{" + f'"{fields[0]}": {huge}' + "}").encode(), "application/json", {400}),
        "huge-numbers": (json.dumps(dict.fromkeys(fields, 10**40)).encode(), "application/json", {400}),
        "nan": (("{" + f'"{fields[0]}": NaN' + "}").encode(), "application/json", {400}),
        "nul-in-strings": (json.dumps(dict.fromkeys(fields, "a\x00b")).encode(), "application/json", {400}),
        "raw-nul-byte": (b'{"x":\x00 1}', "application/json", {400}),
        "repeated-key": (("{" + f'"{fields[0]}": 1, "{fields[0]}": 2' + "}").encode(), "application/json", {400}),
        "not-an-object": (b'"just text"', "application/json", {400}),
        "truncated": (b'{"x": [1, 2', "application/json", {400}),
        "too-large": (b'{"x": "' + b"a" * 70_000 + b'"}', "application/json", {413}),
    }


def test_the_schema_has_write_endpoints():
    ops = write_operations()
    assert len(ops) >= 20, [f"{m} {p}" for m, p, _ in ops]


def test_every_write_endpoint_refuses_malformed_bodies_and_writes_nothing(api, token, world, checked_out, publish):
    visit = checked_out()
    need = visit.need
    publish()
    secret = token(world.worker)
    ids = {"need": need.pk, "visit": visit.pk}
    before = counts()
    wrong: list[str] = []
    ran = 0
    for method, path, op in write_operations():
        # a real record where the path names one: a body that slipped through would act on it
        pk = ids["visit"] if "/visits/" in path else ids["need"]
        url = "/api/v1" + _fill(path, pk)
        for name, (raw, content_type, ok) in malformed(op).items():
            r = api.client.generic(
                method.upper(),
                url,
                raw,
                content_type=content_type,
                headers={"Authorization": f"Bearer {secret}", "Accept-Language": "zh-Hans"},
            )
            ran += 1
            if r.status_code not in ok:
                wrong.append(f"{method.upper()} {path} [{name}]: {r.status_code} {r.content[:160]!r}")
                continue
            body = assert_error(r, r.status_code)
            if not re.search(r"[\u4e00-\u9fff]", body["message"]):
                wrong.append(f"{method.upper()} {path} [{name}]: not in Chinese: {body['message']!r}")
    print(f"{ran} malformed requests to {len(write_operations())} write endpoints")
    assert not wrong, "\n".join(wrong)
    assert counts() == before
    assert RateCounter.objects.exists()  # the requests were counted, in the database


def test_english_callers_get_english(api, token, world):
    r = api.client.post(
        "/api/v1/needs",
        data=b"{",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token(world.worker)}", "Accept-Language": "en"},
    )
    assert assert_error(r, 400, "api.malformed_json")["message"] == "The request body is not valid JSON."


# ------------------------------------------------------------------ fuzz: content types, sizes and bytes

_MEDIA = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=utf-16",
        "application/vnd.api+json",
        "text/plain",
        "text/json",
        "application/javascript",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zz",
        "application/octet-stream",
        "",
        "application/json;;;",
        "APPLICATION/JSON",
    ]
)


@hypothesis.settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture, hypothesis.HealthCheck.too_slow],
)
@hypothesis.given(
    op=st.sampled_from(write_operations()),
    content_type=_MEDIA,
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
            max_leaves=12,
        ).map(lambda v: json.dumps(v).encode()),
        st.integers(min_value=60_000, max_value=80_000).map(lambda n: b'{"x": "' + b"a" * n + b'"}'),
    ),
)
def test_fuzzed_bodies_and_content_types_are_4xx_and_write_nothing(op, content_type, body, fuzz_ctx):
    """Whatever the bytes and the declared type: a 4xx with the error shape (or a success the endpoint
    would give anyway — never for a refused content type or size), never a 500; a refusal writes nothing."""
    api, secret, before = fuzz_ctx
    method, path, _op = op
    r = api.client.generic(
        method.upper(),
        "/api/v1" + _fill(path, 999_999_999),  # no such record: nothing may be written
        body,
        content_type=content_type,
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert r.status_code < 500, r.content[:300]
    json_type = content_type.split(";")[0].strip().lower() in ("application/json", "application/vnd.api+json")
    if not json_type and body:
        assert r.status_code == 415, (content_type, r.status_code)
    if len(body) > 64 * 1024:
        assert r.status_code in (413, 415), r.status_code
    if r.status_code >= 400:
        assert_error(r, r.status_code)
    assert counts() == before


@pytest.fixture
def fuzz_ctx(api, token, world):
    secret = token(world.worker)
    return api, secret, counts()
