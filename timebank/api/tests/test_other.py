"""Catalogue, training certificates, reports and the docs."""

from __future__ import annotations

import datetime as dt

import pytest

from timebank.training.models import Certificate

from .conftest import assert_error, counts

pytestmark = pytest.mark.django_db


def test_catalogue(api, token, social_worker):
    t = token(social_worker, "read")
    items = api.get("/catalogue/items", token=t).json()
    chat = next(i for i in items if i["code"] == "chat")
    assert chat["version"] >= 1 and chat["default_minutes"] > 0 and chat["coefficient"]
    assert api.get("/catalogue/items/chat", token=t).json()["code"] == "chat"
    assert_error(api.get("/catalogue/items/no-such-item", token=t), 404)
    assert_error(api.get("/catalogue/items", token=t, category="bad code!"), 400)
    some = api.get("/catalogue/items", token=t, category=chat["category"]).json()
    assert some and all(i["category"] == chat["category"] for i in some)


def test_certificates(api, token, world, other_town_admin):
    t = token(world.worker)
    body = {
        "holder_id": world.vol.resident_id,
        "track": "elderly",
        "number": "ZS-EC-2026-0001",
        "valid_from": "2026-01-01",
        "valid_until": "2099-12-31",
    }
    r = api.post("/training/certificates", body, token=t)
    assert r.status_code == 201, r.content
    assert r.json()["holder_name"] == world.vol.resident.name
    listed = api.get("/training/certificates", token=t, track="elderly", valid_on=dt.date.today().isoformat()).json()
    assert listed["count"] == 1
    other = token(other_town_admin)
    assert api.get("/training/certificates", token=other).json()["count"] == 0
    before = counts()
    assert_error(api.post("/training/certificates", body, token=t), 409)
    assert_error(api.post("/training/certificates", body | {"number": "N-2"}, token=other), 404)
    assert_error(api.post("/training/certificates", body | {"track": "juggling", "number": "N-3"}, token=t), 400)
    bad_period = body | {"number": "N-4", "valid_until": "2025-01-01"}
    assert_error(api.post("/training/certificates", bad_period, token=t), 400)
    assert counts() == before
    assert Certificate.objects.count() == 1


def test_reports_summary_counts_the_callers_area(api, token, world, publish, other_town_admin):
    publish()
    body = api.get("/reports/summary", token=token(world.worker, "read")).json()
    assert body["elders"] == 1 and body["volunteers"] == 2
    assert {"key": "open", "count": 1} in body["needs_by_status"]
    other = api.get("/reports/summary", token=token(other_town_admin, "read")).json()
    assert other["residents"] == 0 and other["needs_by_status"] == []


def test_openapi_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.") and "/api/v1/needs" in schema["paths"]
    assert "BearerAuth" in str(schema["components"]) or "TokenAuth" in str(schema["components"])
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_unknown_api_address_answers_with_the_error_shape(client):
    response = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found" and body["message"] == "Not found."
    assert client.get("/api/v2/anything").json()["code"] == "not_found"


def test_operator_revokes_a_token_by_prefix(make_staff, town):
    from io import StringIO

    from django.core.management import call_command

    from timebank.api.models import ApiToken
    from timebank.api.services import token_create

    user = make_staff("town_admin", region=town)
    issued = token_create(user=user, name="partner sync", scopes=["read"])
    out = StringIO()
    call_command("api_token_revoke", prefix=issued.token.prefix, stdout=out)
    assert "revoked" in out.getvalue()
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is not None
