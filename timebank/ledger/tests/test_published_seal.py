"""The latest seal hash is published: a public page (no login) and a command, with no personal data."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from timebank.ledger import services
from timebank.ledger.models import Seal, Transfer
from timebank.ledger.sealing import seal_transfers, verify_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed_twice(make_resident):
    v = make_resident("刘晓红", 40)
    services.service_credit(key="pub-seal-1", volunteer=v, payer="government", elder=None, minutes=90, memo="陪诊")
    seal_transfers()
    services.service_credit(key="pub-seal-2", volunteer=v, payer="government", elder=None, minutes=60, memo="陪诊")
    seal_transfers()
    return v


def test_the_page_shows_the_latest_hash_without_login_in_both_languages(sealed_twice):
    latest = Seal.objects.order_by("-last_id").first()
    client = Client()
    zh = client.get("/ledger/seal/")
    assert zh.status_code == 200
    text = zh.content.decode()
    assert "时间账本公示码" in text and f"截至第 {latest.last_id} 笔转账" in text
    assert f'data-hash="{latest.hash}"' in text
    assert latest.hash[:8] in text and latest.hash[-8:] in text
    for seal in Seal.objects.all():  # the earlier seals too, so an older noted code can be compared
        assert seal.hash in text
    en = client.get("/ledger/seal/", headers={"accept-language": "en"}).content.decode()
    assert "The ledger's published seal" in en and f"transfers up to no. {latest.last_id}" in en
    # no personal data: no names, no memos, no amounts, no transfer keys, no row hashes of the entries
    for secret in (sealed_twice.name, "陪诊", "pub-seal-1", str(latest.entries[0][1])):
        assert secret not in text and secret not in en


def test_the_page_as_json_and_before_any_seal(db):
    client = Client()
    empty = client.get("/ledger/seal/")
    assert empty.status_code == 200 and "账本还没有封存过" in empty.content.decode()
    assert client.get("/ledger/seal/?format=json").json()["latest"] is None


def test_a_rewritten_chain_shows_a_different_hash_for_the_same_seal(sealed_twice):
    """What the page publishes is what verification recomputes: a chain rewritten from a changed row would
    need a new hash for the same seal, and the published one no longer matches."""
    body = Client().get("/ledger/seal/?format=json").json()
    assert body["latest"]["hash"] == verify_ledger().last_seal_hash
    assert [s["last_transfer"] for s in body["recent"]] == sorted(
        Seal.objects.values_list("last_id", flat=True), reverse=True
    )


def test_the_command_prints_the_latest_hash(sealed_twice):
    latest = Seal.objects.order_by("-last_id").first()
    out = io.StringIO()
    call_command("ledger_seal_hash", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[-1] == latest.hash and f"transfers up to #{latest.last_id}" in lines[0]
    out = io.StringIO()
    call_command("ledger_seal_hash", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["hash"] == latest.hash and body["last_transfer"] == Transfer.objects.order_by("-id").first().pk
