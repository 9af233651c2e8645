"""Ledger: balances, statements, transfers to relatives and donations with idempotency keys."""

from __future__ import annotations

import pytest
from django.utils import timezone

from timebank.ledger.models import Transfer

from .conftest import assert_error, counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded_son(world, fund):
    fund(world.son.resident, 600)
    return world.son


def test_balance_and_statements(api, token, world, funded_son, other_town_admin):
    t = token(world.worker, "read")
    son = funded_son.resident
    body = api.get(f"/ledger/residents/{son.pk}/balance", token=t).json()
    assert body["posted_minutes"] == 600 and body["available_hours"] == "10.0"
    st = api.get(f"/ledger/residents/{son.pk}/statement", token=t).json()
    assert st["closing_minutes"] == 600 and st["lines"][0]["minutes"] == 600
    now = timezone.localdate()
    month = api.get(f"/ledger/residents/{son.pk}/statement", token=t, year=now.year, month=now.month).json()
    assert month["period"] == f"{now.year}-{now.month:02d}" and len(month["lines"]) == 1
    empty = api.get(f"/ledger/residents/{world.elder.pk}/statement", token=t).json()
    assert empty["lines"] == [] and empty["closing_minutes"] == 0
    assert_error(api.get(f"/ledger/residents/{son.pk}/statement", token=t, year=2026), 400)
    assert_error(api.get(f"/ledger/residents/{son.pk}/statement", token=t, year=2026, month=13), 400)
    assert_error(api.get(f"/ledger/residents/{son.pk}/balance", token=token(other_town_admin, "read")), 404)


def test_transfer_to_a_relative_is_idempotent(api, token, world, funded_son):
    t = token(funded_son, "ledger")
    body = {"recipient_id": world.elder.pk, "minutes": 120}
    r = api.post("/ledger/transfers", body, token=t, headers={"Idempotency-Key": "gift-0000001"})
    assert r.status_code == 201, r.content
    first = r.json()
    assert first["minutes"] == 120 and first["kind"] == "family_transfer" and first["replayed"] is False
    again = api.post("/ledger/transfers", body, token=t, headers={"Idempotency-Key": "gift-0000001"})
    assert again.status_code == 200 and again.json()["id"] == first["id"] and again.json()["replayed"] is True
    same_in_field = api.post("/ledger/transfers", body | {"key": "gift-0000001"}, token=t)
    assert same_in_field.status_code == 200 and same_in_field.json()["id"] == first["id"]
    assert Transfer.objects.filter(kind="family_transfer").count() == 1
    before = counts()
    other = {"recipient_id": world.elder.pk, "minutes": 60}
    r = api.post("/ledger/transfers", other, token=t, headers={"Idempotency-Key": "gift-0000001"})
    assert_error(r, 409, "ledger.idempotency_conflict")
    assert counts() == before


def test_transfer_refusals_write_nothing(api, token, world, funded_son, make_resident, other_community):
    t = token(funded_son, "ledger")
    stranger = make_resident(name="陌生人", age=40)
    far = make_resident(name="坦洲人", age=70, home_region=other_community)
    worker = token(world.worker, "ledger")
    before = counts()
    body = {"recipient_id": world.elder.pk, "minutes": 60}
    assert_error(api.post("/ledger/transfers", body, token=t), 400, "api.idempotency_key_required")
    assert_error(
        api.post(
            "/ledger/transfers", body | {"key": "key-aaaaaaa"}, token=t, headers={"Idempotency-Key": "key-bbbbbbb"}
        ),
        400,
        "api.idempotency_key_mismatch",
    )
    assert_error(api.post("/ledger/transfers", body | {"key": "short"}, token=t), 400, "invalid_input")
    assert_error(api.post("/ledger/transfers", body | {"minutes": 0, "key": "key-ccccccc"}, token=t), 400)
    too_much = body | {"minutes": 6000, "key": "key-ddddddd"}
    assert_error(api.post("/ledger/transfers", too_much, token=t), 409, "ledger.insufficient_balance")
    not_linked = {"recipient_id": stranger.pk, "minutes": 10, "key": "key-eeeeeee"}
    assert_error(api.post("/ledger/transfers", not_linked, token=t), 404)
    assert_error(
        api.post("/ledger/transfers", {"recipient_id": far.pk, "minutes": 10, "key": "key-fffffff"}, token=t), 404
    )
    assert_error(api.post("/ledger/transfers", body | {"key": "key-ggggggg"}, token=worker), 403, "api.no_resident")
    assert counts() == before


def test_donation_to_the_pool(api, token, world, funded_son):
    t = token(funded_son, "ledger")
    r = api.post("/ledger/donations", {"minutes": 60}, token=t, headers={"Idempotency-Key": "donate-000001"})
    assert r.status_code == 201 and r.json()["kind"] == "donation"
    balance = api.get(f"/ledger/residents/{funded_son.resident_id}/balance", token=token(funded_son, "read")).json()
    assert balance["posted_minutes"] == 540


def test_a_system_shaped_key_lives_in_the_callers_namespace(api, token, world, funded_son):
    """A key the system will use for a visit's credit, sent by a resident: posted, but under the resident's
    own namespace, so the visit's credit is not blocked; the answer echoes the key as the caller sent it."""
    t = token(funded_son, "ledger")
    body = {"recipient_id": world.elder.pk, "minutes": 30}
    r = api.post("/ledger/transfers", body, token=t, headers={"Idempotency-Key": "visit-424242-credit"})
    assert r.status_code == 201, r.content
    assert r.json()["key"] == "visit-424242-credit" and r.json()["replayed"] is False
    assert not Transfer.objects.filter(key="visit-424242-credit").exists()
    assert Transfer.objects.get(pk=r.json()["id"]).key == f"c:{funded_son.pk}:visit-424242-credit"
    again = api.post("/ledger/donations", {"minutes": 30}, token=t, headers={"Idempotency-Key": "visit-424242-credit"})
    assert_error(again, 409, "ledger.idempotency_conflict")  # the caller's own key, for a different request
