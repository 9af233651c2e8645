"""/api/v1/me/data and /api/v1/me/corrections: only about the caller; bad input is a coded 4xx, nothing written."""

from __future__ import annotations

import pytest

from timebank.conftest import PASSWORD
from timebank.people import services as people_services
from timebank.people.models import CorrectionRequest

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(make_resident):
    r = make_resident(name="黄数据", age=30, roles=["volunteer"], phone="13800138111", address="莲峰路7号")
    return people_services.login_create(actor=None, resident=r, password=PASSWORD)


@pytest.fixture
def neighbour(make_resident):
    return make_resident(name="邻居家", age=33, roles=["volunteer"], address="悦来路9号")


def test_my_data_is_mine_only(api, token, me, neighbour):
    body = api.get("/me/data", token=token(me, "read")).json()
    assert body["format"] == "timebank.my-data/1" and body["resident_id"] == me.resident.pk
    text = str(body)
    assert "黄数据" in text and "莲峰路7号" in text and "邻居家" not in text and "悦来路9号" not in text


def test_a_staff_login_has_no_resident_data(api, token, social_worker):
    assert_error(api.get("/me/data", token=token(social_worker)), 404, "not_found")


def test_asking_for_a_correction(api, token, me):
    t = token(me)
    made = api.post("/me/corrections", {"field": "address", "new_value": "莲峰路8号", "reason": "门牌错"}, token=t)
    assert made.status_code == 201, made.content
    assert made.json()["status"] == "open" and made.json()["new_value"] == "莲峰路8号"
    listed = api.get("/me/corrections", token=t).json()
    assert [r["id"] for r in listed] == [made.json()["id"]]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"field": "address", "new_value": "莲峰路8号", "reason": " "}, "people.correction_reason_required"),
        ({"field": "phone", "new_value": "12", "reason": "换号"}, "people.invalid_phone"),
        ({"field": "name", "new_value": "黄\u200b数据", "reason": "改名"}, "people.correction_value_required"),
        ({"field": "salary", "new_value": "1", "reason": "x"}, "invalid_input"),
        ({"field": "address", "new_value": "x", "reason": "y", "resident": 1}, "invalid_input"),
        ({"field": "address", "new_value": "x" * 201, "reason": "y"}, "invalid_input"),
    ],
)
def test_bad_input_is_a_coded_400_in_the_callers_language(api, token, me, body, code):
    response = api.post("/me/corrections", body, token=token(me), lang="zh-hans")
    err = assert_error(response, 400, code)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"])
    assert not CorrectionRequest.objects.exists()


def test_a_read_only_token_cannot_ask(api, token, me):
    response = api.post(
        "/me/corrections", {"field": "address", "new_value": "x", "reason": "y"}, token=token(me, "read")
    )
    assert response.status_code == 403
    assert not CorrectionRequest.objects.exists()
