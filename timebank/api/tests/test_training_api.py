"""Training over the API: sessions, enrolment with a waiting list, attendance, assessment, progress."""

# ruff: noqa: F811 - the training fixtures are imported by name

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from timebank.training.models import Certificate, Enrolment
from timebank.training.tests.conftest import course, make_session, next_week  # noqa: F401 - fixtures

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_worker(make_staff, other_site):
    return make_staff("social_worker", site=other_site, name="坦洲社工")


def test_enrol_wait_leave_attend_assess(api, token, world, make_session, other_worker):
    session = make_session(capacity=1)
    vol, vol2, worker = token(world.vol), token(world.vol2), token(world.worker)
    seen = api.get("/training/sessions", token=vol).json()  # anyone sees the sessions they can join
    assert [s["id"] for s in seen["items"]] == [session.pk] and seen["items"][0]["track"] == "elderly"
    r = api.post(f"/training/sessions/{session.pk}/enrolments", {}, token=vol)
    assert r.status_code == 201 and r.json()["status"] == "enrolled", r.content
    first = r.json()
    r = api.post(f"/training/sessions/{session.pk}/enrolments", {}, token=vol2)
    assert r.json()["status"] == "waiting" and r.json()["waiting_position"] == 1
    assert api.get(f"/training/sessions/{session.pk}", token=vol).json()["waiting"] == 1
    assert_error(
        api.post(f"/training/sessions/{session.pk}/enrolments", {}, token=vol), 409, "training.already_enrolled"
    )
    assert_error(
        api.post(f"/training/sessions/{session.pk}/enrolments", {"wait": False, "resident_id": world.elder.pk},
                 token=worker),
        409,
        "training.session_full",
    )  # fmt: skip
    # leaving frees the seat for the first person waiting
    r = api.post(f"/training/enrolments/{first['id']}/cancel", token=vol)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    [mine] = api.get("/training/enrolments", token=vol2).json()
    assert mine["status"] == "enrolled" and mine["waiting_position"] is None
    # the class list is for the site's staff; another area's social worker does not see it
    listed = api.get(f"/training/sessions/{session.pk}/enrolments", token=worker).json()
    assert [e["resident_id"] for e in listed] == [world.vol2.resident_id]
    assert_error(api.get(f"/training/sessions/{session.pk}/enrolments", token=token(other_worker)), 404)
    assert_error(api.get(f"/training/sessions/{session.pk}/enrolments", token=vol), 404)
    present = {"rows": [{"resident_id": world.vol2.resident_id, "present": True}]}
    assert_error(
        api.post(f"/training/sessions/{session.pk}/attendance", present, token=worker),
        409,
        "training.session_not_started",
    )
    with time_machine.travel(session.starts_at + dt.timedelta(hours=7), tick=False):
        before = Enrolment.objects.filter(attended__isnull=False).count()
        bad = {"rows": [*present["rows"], {"resident_id": world.vol.resident_id, "present": True}]}
        assert_error(
            api.post(f"/training/sessions/{session.pk}/attendance", bad, token=worker), 409, "training.not_enrolled"
        )
        twice = {"rows": present["rows"] * 2}
        assert_error(api.post(f"/training/sessions/{session.pk}/attendance", twice, token=worker), 400, "invalid_input")
        assert Enrolment.objects.filter(attended__isnull=False).count() == before
        r = api.post(f"/training/sessions/{session.pk}/attendance", present, token=worker)
        assert r.status_code == 200 and r.json() == {"count": 1}
        high = {"rows": [{"resident_id": world.vol2.resident_id, "score": 101}]}
        assert_error(api.post(f"/training/sessions/{session.pk}/assessment", high, token=worker), 400, "invalid_input")
        assert not Certificate.objects.exists()
        scores = {"rows": [{"resident_id": world.vol2.resident_id, "score": 86}]}
        [done] = api.post(f"/training/sessions/{session.pk}/assessment", scores, token=worker).json()
        assert done["passed"] is True and done["certificate_id"] == Certificate.objects.get().pk
        progress = api.get("/training/progress", token=worker).json()
        assert any(p["track"] == "elderly" and p["passed"] == 1 and p["town_code"] for p in progress)


def test_other_areas_sessions_are_not_managed(api, token, world, make_session, other_worker):
    session = make_session(capacity=3)
    other = token(other_worker)
    # another area's social worker can see that the session exists (anyone may join it) but cannot run it
    assert api.get(f"/training/sessions/{session.pk}", token=other).status_code == 200
    body = {"resident_id": world.vol.resident_id}
    assert_error(api.post(f"/training/sessions/{session.pk}/enrolments", body, token=other), 404, "not_found")
    sheet = {"rows": [{"resident_id": world.vol.resident_id, "present": True}]}
    assert_error(api.post(f"/training/sessions/{session.pk}/attendance", sheet, token=other), 404, "not_found")
    assert not Enrolment.objects.exists()
