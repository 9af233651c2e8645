"""visit.confirmed reaches a partner once, after the confirmation commits (the care fixtures drive a visit)."""

from __future__ import annotations

import pytest

from timebank.care import services as care
from timebank.care.tests.conftest import assigned, checked_out, login, person, publish, world  # noqa: F401
from timebank.certificates import webhooks
from timebank.certificates.events import VISIT_CONFIRMED, event_id
from timebank.certificates.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def test_visit_confirmed_once(receiver, world, checked_out, committed) -> None:  # noqa: F811
    endpoint = webhooks.endpoint_create(name="p", url=receiver.url, events=[VISIT_CONFIRMED])
    visit = checked_out(minutes=60)
    assert receiver.received == []
    visit = committed(care.visit_confirm, actor=world.worker, visit=visit)
    committed(care.visit_confirm, actor=world.worker, visit=visit)  # pressed twice: one event
    [got] = receiver.received
    assert got.json["id"] == event_id(VISIT_CONFIRMED, visit.pk)
    assert got.json["data"]["visit_id"] == visit.pk and got.json["data"]["transfer_id"] == visit.transfer_id
    assert webhooks.verify(endpoint.secret, got.headers["X-Timebank-Signature"], got.body)
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED
