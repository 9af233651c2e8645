"""The active webhook endpoints are cached per process, not read after every commit that emits an event."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from timebank.certificates import webhooks
from timebank.certificates.events import VISIT_CONFIRMED
from timebank.certificates.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def reads_of_endpoints(call) -> int:
    with CaptureQueriesContext(connection) as q:
        call()
    return sum('FROM "certificates_webhookendpoint"' in x["sql"] for x in q.captured_queries)


def test_endpoints_are_read_once_per_process_and_a_write_here_is_seen_at_once(settings):
    settings.WEBHOOK_ENDPOINTS_TTL = 3600
    assert reads_of_endpoints(webhooks.active_endpoints) == 1
    assert reads_of_endpoints(webhooks.active_endpoints) == 0  # the next commits: no query
    endpoint = webhooks.endpoint_create(name="p", url="http://127.0.0.1:9/hook", events=[VISIT_CONFIRMED])
    assert webhooks.active_endpoints() == [endpoint]  # written in this process: seen at once
    endpoint.active = False
    endpoint.save(update_fields=["active"])  # e.g. the admin
    assert webhooks.active_endpoints() == []
    endpoint.delete()
    assert reads_of_endpoints(webhooks.active_endpoints) == 1


def test_a_write_by_another_process_is_seen_within_the_ttl(settings, monkeypatch):
    settings.WEBHOOK_ENDPOINTS_TTL = 10
    clock = [1000.0]
    monkeypatch.setattr(webhooks.time, "monotonic", lambda: clock[0])
    assert webhooks.active_endpoints() == []
    # another process adds an endpoint: no signal reaches this one (a queryset write sends none either)
    WebhookEndpoint.objects.bulk_create([WebhookEndpoint(name="q", url="http://127.0.0.1:9/", secret="s", events=[])])
    clock[0] += 9
    assert webhooks.active_endpoints() == []
    clock[0] += 2
    assert [e.name for e in webhooks.active_endpoints()] == ["q"]


def test_ttl_zero_reads_every_time(settings):
    settings.WEBHOOK_ENDPOINTS_TTL = 0
    assert reads_of_endpoints(webhooks.active_endpoints) == 1
    assert reads_of_endpoints(webhooks.active_endpoints) == 1
