"""Webhooks against a real local HTTP server: signatures by the documented algorithm, retries with
exponential back-off, every attempt recorded, replays carrying the same event id."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from django.utils import timezone

from timebank.certificates import services, webhooks
from timebank.certificates.events import CERTIFICATE_ISSUED, TRANSFER_POSTED, event_id
from timebank.certificates.models import WebhookAttempt, WebhookDelivery
from timebank.ledger import services as ledger

pytestmark = pytest.mark.django_db
D = WebhookDelivery.Status


def verify_as_documented(secret: str, header: str, body: bytes) -> bool:
    """The receiver's check, written from docs/webhooks.md (not by calling the sender's code)."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def test_sign_and_verify_known_vector() -> None:
    header = webhooks.sign("whsec_test", 1700000000, b'{"a":1}')
    expected = hmac.new(b"whsec_test", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert webhooks.verify("whsec_test", header, b'{"a":1}', now=1700000100)
    assert not webhooks.verify("whsec_test", header, b'{"a":2}', now=1700000100)  # body changed
    assert not webhooks.verify("other", header, b'{"a":1}', now=1700000100)  # wrong secret
    assert not webhooks.verify("whsec_test", header, b'{"a":1}', now=1700001000)  # too old
    assert not webhooks.verify("whsec_test", "garbage", b'{"a":1}')


def test_transfer_posted_is_signed(receiver, volunteer, committed) -> None:
    endpoint = webhooks.endpoint_create(name="志愿中山", url=receiver.url, events=[TRANSFER_POSTED])
    credit = committed(
        ledger.service_credit, key="cert-hook-1", volunteer=volunteer, payer="government", elder=None, minutes=90
    )
    assert credit.transfer is not None
    [got] = receiver.received
    assert got.headers["X-Timebank-Event"] == TRANSFER_POSTED
    assert verify_as_documented(endpoint.secret, got.headers["X-Timebank-Signature"], got.body)
    assert not verify_as_documented("wrong-secret", got.headers["X-Timebank-Signature"], got.body)
    assert got.json["id"] == got.headers["X-Timebank-Event-Id"] == event_id(TRANSFER_POSTED, credit.transfer.pk)
    assert got.json["data"]["minutes"] == 90 and got.json["data"]["transfer_id"] == credit.transfer.pk
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == D.DELIVERED and delivery.attempts == 1 and delivery.response_code == 200
    assert delivery.delivered_at is not None
    # the same request again (an idempotent replay of the ledger key) posts nothing new and sends nothing new
    committed(ledger.service_credit, key="cert-hook-1", volunteer=volunteer, payer="government", elder=None, minutes=90)
    assert len(receiver.received) == 1


def test_rolled_back_change_sends_nothing(receiver, volunteer, committed) -> None:
    from django.db import transaction

    webhooks.endpoint_create(name="p", url=receiver.url)

    def boom() -> None:
        with transaction.atomic():
            ledger.service_credit(key="cert-hook-rb", volunteer=volunteer, payer="government", elder=None, minutes=30)
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        committed(boom)
    assert receiver.received == [] and WebhookDelivery.objects.count() == 0


def test_retry_with_backoff_then_success(receiver, volunteer, settings, committed) -> None:
    settings.WEBHOOK_BACKOFF_BASE = 30
    endpoint = webhooks.endpoint_create(name="p", url=receiver.url, events=[TRANSFER_POSTED])
    receiver.statuses = [500, 503]  # fails twice, then 200
    t0 = timezone.now()
    committed(ledger.service_credit, key="cert-hook-2", volunteer=volunteer, payer="government", elder=None, minutes=60)
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.status == D.PENDING and delivery.response_code == 500
    assert delivery.next_try_at is not None
    first_wait = delivery.next_try_at - WebhookAttempt.objects.get(delivery=delivery, number=1).at
    assert first_wait == dt.timedelta(seconds=30)

    assert committed(webhooks.deliver_due, now=delivery.next_try_at - dt.timedelta(seconds=1)) == 0  # not yet due
    t2 = delivery.next_try_at
    assert committed(webhooks.deliver_due, now=t2) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.response_code == 503
    assert delivery.next_try_at == t2 + dt.timedelta(seconds=60)  # doubled

    assert committed(webhooks.deliver_due, now=t2 + dt.timedelta(seconds=59)) == 0
    t3 = t2 + dt.timedelta(seconds=60)
    assert committed(webhooks.deliver_due, now=t3) == 1
    delivery.refresh_from_db()
    assert delivery.status == D.DELIVERED and delivery.attempts == 3 and delivery.delivered_at == t3
    log = list(
        WebhookAttempt.objects.filter(delivery=delivery).order_by("number").values_list("number", "response_code")
    )
    assert log == [(1, 500), (2, 503), (3, 200)]

    assert len(receiver.received) == 3
    ids = {r.headers["X-Timebank-Event-Id"] for r in receiver.received}
    assert len(ids) == 1  # every retry carries the same event id
    stamps = [int(r.headers["X-Timebank-Signature"].split(",")[0][2:]) for r in receiver.received]
    assert stamps[0] >= int(t0.timestamp()) and stamps[1] == int(t2.timestamp()) and stamps[2] == int(t3.timestamp())
    for r in receiver.received:
        assert verify_as_documented(endpoint.secret, r.headers["X-Timebank-Signature"], r.body)
    assert [r.headers["X-Timebank-Delivery"] for r in receiver.received] == [f"{delivery.pk}.{n}" for n in (1, 2, 3)]


def test_gives_up_after_max_attempts(receiver, volunteer, settings, committed) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    webhooks.endpoint_create(name="p", url=receiver.url)
    receiver.statuses = [500, 500, 500]
    committed(ledger.service_credit, key="cert-hook-3", volunteer=volunteer, payer="government", elder=None, minutes=60)
    delivery = WebhookDelivery.objects.get()
    committed(webhooks.deliver_due, now=delivery.next_try_at)
    delivery.refresh_from_db()
    assert delivery.status == D.FAILED and delivery.attempts == 2 and delivery.next_try_at is None


def test_unreachable_receiver_is_recorded(volunteer, committed) -> None:
    webhooks.endpoint_create(name="gone", url="http://127.0.0.1:9/nothing")  # the discard port: refused
    credit = committed(
        ledger.service_credit, key="cert-hook-4", volunteer=volunteer, payer="government", elder=None, minutes=60
    )
    assert credit.transfer is not None  # the ledger does not care
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == D.PENDING and delivery.response_code is None and "ConnectionError" in delivery.last_error


def test_replay_carries_the_same_event_id(receiver, volunteer, committed) -> None:
    endpoint = webhooks.endpoint_create(name="p", url=receiver.url)
    committed(ledger.service_credit, key="cert-hook-5", volunteer=volunteer, payer="government", elder=None, minutes=60)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == D.DELIVERED
    later = timezone.now() + dt.timedelta(minutes=5)
    replayed = committed(webhooks.delivery_replay, delivery=delivery, now=later)
    assert replayed is not None and replayed.status == D.DELIVERED and replayed.attempts == 2
    first, second = receiver.received
    assert first.headers["X-Timebank-Event-Id"] == second.headers["X-Timebank-Event-Id"]
    assert first.json["id"] == second.json["id"] and first.body == second.body  # same payload
    assert first.headers["X-Timebank-Signature"] != second.headers["X-Timebank-Signature"]  # fresh timestamp
    assert verify_as_documented(endpoint.secret, second.headers["X-Timebank-Signature"], second.body)
    # a receiver that remembers ids sees the repeat
    seen: set[str] = set()
    repeats = []
    for r in receiver.received:
        repeats.append(r.json["id"] in seen)
        seen.add(r.json["id"])
    assert repeats == [False, True]


def test_certificate_issued_event(receiver, vol_user, volunteer, social_worker, credit, settings, committed) -> None:
    settings.PUBLIC_BASE_URL = "https://tb.example.org"
    endpoint = webhooks.endpoint_create(name="志愿中山", url=receiver.url, events=[CERTIFICATE_ISSUED])
    credit(volunteer, 120)
    today = timezone.localdate()
    cert = services.certificate_apply(
        actor=vol_user, volunteer=volunteer, period_start=today - dt.timedelta(days=7), period_end=today
    )
    services.certificate_accept(actor=social_worker, certificate=cert)
    assert receiver.received == []  # only transfer events so far, and this endpoint does not want them
    cert = committed(services.certificate_issue, actor=social_worker, certificate=cert)
    [got] = receiver.received
    assert got.headers["X-Timebank-Event"] == CERTIFICATE_ISSUED
    assert verify_as_documented(endpoint.secret, got.headers["X-Timebank-Signature"], got.body)
    data = got.json["data"]
    assert data["serial"] == cert.serial and data["minutes"] == 120
    assert data["verify_url"] == f"https://tb.example.org/verify/{cert.code}"
    assert volunteer.id_number not in got.body.decode() and volunteer.name not in got.body.decode()


def test_inactive_endpoint_and_filters(receiver, volunteer, committed) -> None:
    webhooks.endpoint_create(name="certs only", url=receiver.url, events=[CERTIFICATE_ISSUED])
    off = webhooks.endpoint_create(name="off", url=receiver.url)
    off.active = False
    off.save()
    committed(ledger.service_credit, key="cert-hook-6", volunteer=volunteer, payer="government", elder=None, minutes=60)
    assert receiver.received == [] and WebhookDelivery.objects.count() == 0
    from timebank.common.errors import InvalidInput

    with pytest.raises(InvalidInput):
        webhooks.endpoint_create(name="x", url=receiver.url, events=["nonsense"])
