"""Volunteer service certificates over the API: the four stages, the public page, scope and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from timebank.certificates.models import VolunteerCertificate
from timebank.ledger import services as ledger

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_worker(make_staff, other_site):
    return make_staff("social_worker", site=other_site, name="坦洲社工")


DAY = dt.timedelta(days=1)


def _period() -> dict[str, str]:
    today = timezone.localdate()
    return {"period_start": str(today - dt.timedelta(days=30)), "period_end": str(today)}


def _served(world, minutes: int = 90) -> None:
    ledger.service_credit(
        key=f"api-cert-{minutes}-{world.vol.resident_id}", volunteer=world.vol.resident, payer="government",
        elder=None, minutes=minutes, memo="助餐",
    )  # fmt: skip


def test_apply_accept_issue_publish_and_verify(api, token, world):
    _served(world)
    vol, worker = token(world.vol), token(world.worker)
    r = api.post(
        "/service-certificates", {"volunteer_id": world.vol.resident_id, **_period(), "purpose": "升学"}, token=vol
    )
    assert r.status_code == 201, r.content
    cert = r.json()
    assert cert["status"] == "applied" and cert["serial"] is None and cert["verify_url"] is None
    for step, status in (("accept", "accepted"), ("issue", "issued"), ("publish", "published")):
        r = api.post(f"/service-certificates/{cert['id']}/{step}", token=worker)
        assert r.status_code == 200 and r.json()["status"] == status, r.content
    done = api.get(f"/service-certificates/{cert['id']}", token=vol).json()  # the volunteer sees their own
    assert done["minutes"] == 90 and done["content"] == "助餐 1次" and done["serial"].startswith("ZSTB-")
    page = Client().get(done["verify_url"].split("testserver", 1)[-1])
    assert page.status_code == 200 and done["serial"] in page.content.decode()
    listed = api.get("/service-certificates", token=worker, status="published").json()
    assert [c["id"] for c in listed["items"]] == [cert["id"]]
    # revoked with a reason: the public page says so
    r = api.post(f"/service-certificates/{cert['id']}/revoke", {"reason": "记录有误"}, token=worker)
    assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["revoked_reason"] == "记录有误"


def test_only_staff_of_the_area_move_it_on(api, token, world, other_worker):
    _served(world)
    vol, other = token(world.vol), token(other_worker)
    cert = api.post("/service-certificates", {"volunteer_id": world.vol.resident_id, **_period()}, token=vol).json()
    assert_error(api.post(f"/service-certificates/{cert['id']}/accept", token=vol), 403, "certificates.out_of_scope")
    # another region's social worker does not learn it exists
    assert_error(api.get(f"/service-certificates/{cert['id']}", token=other), 404, "not_found")
    assert_error(api.post(f"/service-certificates/{cert['id']}/accept", token=other), 404, "not_found")
    assert api.get("/service-certificates", token=other).json()["count"] == 0
    body = {"volunteer_id": world.vol.resident_id, **_period()}
    assert_error(api.post("/service-certificates", body, token=other), 404, "not_found")
    assert VolunteerCertificate.objects.get(pk=cert["id"]).status == "applied"


def test_steps_out_of_order_and_bad_input_change_nothing(api, token, world):
    vol, worker = token(world.vol), token(world.worker)
    today = timezone.localdate()
    bad = [
        ({"volunteer_id": world.vol.resident_id, "period_start": str(today), "period_end": str(today - 1 * DAY)},
         400, "certificates.bad_period"),
        ({"volunteer_id": world.vol.resident_id, "period_start": str(today), "period_end": str(today + 1 * DAY)},
         400, "certificates.bad_period"),
        ({"volunteer_id": world.vol.resident_id, **_period(), "serial": "ZSTB-1"}, 400, "invalid_input"),
        ({"volunteer_id": world.vol.resident_id, "period_start": "yesterday", "period_end": str(today)},
         400, "invalid_input"),
        ({"volunteer_id": 0, **_period()}, 400, "invalid_input"),
    ]  # fmt: skip
    for body, status, code in bad:
        assert_error(api.post("/service-certificates", body, token=vol), status, code)
    assert not VolunteerCertificate.objects.exists()
    cert = api.post("/service-certificates", {"volunteer_id": world.vol.resident_id, **_period()}, token=vol).json()
    assert_error(
        api.post("/service-certificates", {"volunteer_id": world.vol.resident_id, **_period()}, token=vol),
        409,
        "certificates.already_applied",
    )
    assert_error(
        api.post(f"/service-certificates/{cert['id']}/issue", token=worker), 409, "certificates.illegal_transition"
    )
    assert_error(api.post(f"/service-certificates/{cert['id']}/reject", {"reason": ""}, token=worker), 400)
    assert api.post(f"/service-certificates/{cert['id']}/accept", token=worker).status_code == 200
    # no service in the period: nothing to certify
    assert_error(api.post(f"/service-certificates/{cert['id']}/issue", token=worker), 409, "certificates.no_hours")
    assert VolunteerCertificate.objects.get(pk=cert["id"]).serial is None
    r = api.post(f"/service-certificates/{cert['id']}/reject", {"reason": "期间内没有服务记录"}, token=worker)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert VolunteerCertificate.objects.count() == 1


def test_a_read_only_token_cannot_apply(api, token, world):
    assert_error(
        api.post(
            "/service-certificates",
            {"volunteer_id": world.vol.resident_id, **_period()},
            token=token(world.vol, "read"),
        ),
        403,
    )
    assert not VolunteerCertificate.objects.exists()
