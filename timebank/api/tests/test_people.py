"""People: lists, search, one resident, eligibility, registration; other regions are 404."""

from __future__ import annotations

import pytest

from timebank.people import idnumber
from timebank.people.models import Resident
from timebank.people.tests.factories import birth_date_for_age

from .conftest import assert_error, counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_resident, other_community):
    here = make_resident(name="何惠珍", age=82, roles=["elder"])
    vol = make_resident(name="黄嘉欣", age=27, roles=["volunteer"])
    there = make_resident(name="坦洲人", age=80, roles=["elder"], home_region=other_community)
    return here, vol, there


def test_list_is_scoped_paginated_and_filtered(api, token, social_worker, people):
    here, vol, there = people
    t = token(social_worker, "read")
    body = api.get("/people/residents", token=t).json()
    ids = {r["id"] for r in body["items"]}
    assert body["count"] == 2 and ids == {here.pk, vol.pk}
    assert there.pk not in ids
    assert api.get("/people/residents", token=t, role="volunteer").json()["items"][0]["id"] == vol.pk
    page = api.get("/people/residents", token=t, limit=1, offset=1).json()
    assert page["count"] == 2 and len(page["items"]) == 1 and page["limit"] == 1 and page["offset"] == 1
    found = api.get("/people/residents", token=t, q="何惠珍").json()
    assert [r["id"] for r in found["items"]] == [here.pk]
    assert api.get("/people/residents", token=t, q="坦洲人").json()["count"] == 0
    assert_error(api.get("/people/residents", token=t, limit=1000), 400, "invalid_input")
    assert_error(api.get("/people/residents", token=t, role="king"), 400, "invalid_input")


def test_one_resident_masks_the_id_number(api, token, social_worker, people):
    here, _vol, _there = people
    body = api.get(f"/people/residents/{here.pk}", token=token(social_worker, "read")).json()
    assert body["name"] == "何惠珍" and body["age"] == 82 and body["is_elder"]
    assert here.id_number not in str(body) and "*" in body["id_number_masked"]


def test_another_regions_resident_is_404(api, token, social_worker, other_town_admin, people):
    here, _vol, there = people
    t = token(social_worker, "read")
    assert_error(api.get(f"/people/residents/{there.pk}", token=t), 404, "not_found")
    assert_error(api.get(f"/people/residents/{there.pk}/eligibility", token=t), 404, "not_found")
    assert_error(api.get("/people/residents/999999", token=t), 404, "not_found")
    assert api.get(f"/people/residents/{there.pk}", token=token(other_town_admin, "read")).status_code == 200
    assert_error(api.get(f"/people/residents/{here.pk}", token=token(other_town_admin, "read")), 404)


def test_eligibility(api, token, social_worker, people):
    here, _vol, _there = people
    body = api.get(f"/people/residents/{here.pk}/eligibility", token=token(social_worker, "read")).json()
    assert body["age"] == 82 and body["may_be_elder"] is True and isinstance(body["serve_reasons"], list)


def _new(region_code: str, **kw):
    number = idnumber.make("442000", birth_date_for_age(75), 123)
    return {"name": "新居民", "id_number": number, "home_region": region_code, "roles": ["elder"], **kw}


def test_register(api, token, social_worker, community):
    r = api.post("/people/residents", _new(community.code, phone="13800138000"), token=token(social_worker))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["is_elder"] and body["home_region"]["code"] == community.code
    assert Resident.objects.filter(pk=body["id"], registered_by=social_worker).exists()


def test_register_refusals_write_nothing(api, token, social_worker, community, other_community):
    t = token(social_worker)
    before = counts()
    assert_error(api.post("/people/residents", _new(other_community.code), token=t), 404, "not_found")
    bad = _new(community.code)
    bad["id_number"] = bad["id_number"][:-1] + ("0" if bad["id_number"][-1] != "0" else "1")
    body = assert_error(api.post("/people/residents", bad, token=t), 400, "people.invalid_id_number")
    assert body["field"] == "id_number"
    body = assert_error(api.post("/people/residents", _new(community.code, phone="12"), token=t), 400)
    assert body["field"] == "phone"
    body = assert_error(api.post("/people/residents", _new(community.code, shoe_size=42), token=t), 400)
    assert body["details"][0]["field"] == "shoe_size" and body["details"][0]["code"] == "extra_forbidden"
    assert counts() == before
    assert api.post("/people/residents", _new(community.code), token=t).status_code == 201
    assert_error(api.post("/people/residents", _new(community.code), token=t), 409)
