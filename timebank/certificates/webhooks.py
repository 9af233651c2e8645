"""Outgoing webhooks: signing, delivery with retries and exponential back-off, replay.

Signature (docs/webhooks.md)::

    t      = the Unix time of the attempt, in seconds (decimal digits)
    signed = t + "." + body          (bytes: ASCII t, a full stop, the exact request body)
    v1     = hex(HMAC-SHA256(key=secret as UTF-8, msg=signed))
    header   X-Timebank-Signature: t=<t>,v1=<v1>

Each attempt is recorded (:class:`WebhookAttempt`); the delivery keeps the attempt count, the last
response code, ``next_try_at`` and ``delivered_at``. A failed attempt is tried again after
``BACKOFF_BASE × 2^(attempts−1)`` seconds (capped at ``BACKOFF_MAX``), up to ``MAX_ATTEMPTS`` attempts.
With a broker the retry is scheduled as a Celery task with that countdown; without one (tasks run
eagerly) a countdown cannot be honoured, so due retries are picked up by :func:`deliver_due` (the
``webhooks.deliver_due`` task, or ``manage.py webhooks_deliver``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Timebank-Signature"
EVENT_HEADER = "X-Timebank-Event"
EVENT_ID_HEADER = "X-Timebank-Event-Id"
DELIVERY_HEADER = "X-Timebank-Delivery"
MAX_ATTEMPTS = 8
BACKOFF_BASE = 30  # seconds
BACKOFF_MAX = 6 * 3600
TIMEOUT = 5.0  # seconds per attempt
CLAIM_SECONDS = 60  # an attempt in progress holds the delivery this long


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, f"WEBHOOK_{name}", default)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent: compact JSON, keys sorted, UTF-8 (Chinese is not escaped)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the X-Timebank-Signature header."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (the same algorithm as docs/webhooks.md): parse, recompute, compare in constant
    time, and refuse timestamps more than ``tolerance`` seconds away from ``now``."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(expected, given)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2×base, 4×base, … capped."""
    base = int(_setting("BACKOFF_BASE", BACKOFF_BASE))
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), int(_setting("BACKOFF_MAX", BACKOFF_MAX))))


# --------------------------------------------------------------------------------------------- endpoints
# Every commit that emits an event needs the active endpoints. They change a few times a year, so each
# process keeps them for ENDPOINTS_TTL seconds instead of reading them after every commit. A write of an
# endpoint (this module, the admin, the ORM: any save or delete) empties the cache of the process that wrote
# at once; other processes see the change within the TTL. So a new endpoint receives the events emitted from
# at most ENDPOINTS_TTL seconds after it was saved (docs/webhooks.md); ``WEBHOOK_ENDPOINTS_TTL = 0`` reads
# them after every commit, as before.
ENDPOINTS_TTL = 10.0  # seconds
_endpoints: tuple[float, list[WebhookEndpoint]] | None = None


def active_endpoints() -> list[WebhookEndpoint]:
    """The active endpoints, from this process's cache (see above)."""
    global _endpoints
    ttl = float(_setting("ENDPOINTS_TTL", ENDPOINTS_TTL))
    now = time.monotonic()
    cached = _endpoints
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    rows = list(WebhookEndpoint.objects.filter(active=True))
    _endpoints = (now, rows)
    return rows


def endpoints_changed(**_kwargs: Any) -> None:
    """Forget this process's endpoints (connected to WebhookEndpoint's post_save and post_delete)."""
    global _endpoints
    _endpoints = None


def endpoint_create(*, name: str, url: str, events: list[str] | None = None, secret: str = "") -> WebhookEndpoint:
    from .events import EVENTS

    wanted = list(events or [])
    unknown = [e for e in wanted if e not in EVENTS]
    if unknown:
        from timebank.common.errors import InvalidInput

        raise InvalidInput(field="events")
    return WebhookEndpoint.objects.create(name=name, url=url, events=wanted, secret=secret or new_secret())


def enqueue(*, event: str, event_id: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """One delivery per active endpoint that wants ``event`` (once per endpoint and event id), then send."""
    created: list[WebhookDelivery] = []
    now = timezone.now()
    for endpoint in active_endpoints():
        if not endpoint.wants(event):
            continue
        try:
            with transaction.atomic():
                created.append(
                    WebhookDelivery.objects.create(
                        endpoint=endpoint, event=event, event_id=event_id, payload=payload, next_try_at=now
                    )
                )
        except IntegrityError:  # this event was already queued for this endpoint
            continue
    if created:
        from .tasks import deliver

        for delivery in created:
            try:
                deliver.delay(delivery.pk)
            except Exception:  # never let a partner's trouble fail the request that caused the event
                log.exception("webhook delivery %s could not be started; deliver_due will retry", delivery.pk)
    return created


def _claim(delivery_id: int, now: dt.datetime, *, force: bool = False) -> bool:
    """Take the delivery for one attempt: only one worker sends it at a time, and only when it is due."""
    qs = WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
    if not force:
        qs = qs.filter(next_try_at__lte=now)
    return qs.update(next_try_at=now + dt.timedelta(seconds=CLAIM_SECONDS)) == 1


def attempt(delivery_id: int, *, now: dt.datetime | None = None, force: bool = False) -> WebhookDelivery | None:
    """Send the delivery once, if it is due (``force``: even if not). Records the attempt; on failure sets
    ``next_try_at`` by :func:`backoff`, or gives up after the last attempt. None: not due or not pending."""
    now = now or timezone.now()
    if not _claim(delivery_id, now, force=force):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = body_bytes(delivery.payload)
    number = delivery.attempts + 1
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "timebank-webhooks/1",
        EVENT_HEADER: delivery.event,
        EVENT_ID_HEADER: delivery.event_id,
        DELIVERY_HEADER: f"{delivery.pk}.{number}",
        SIGNATURE_HEADER: sign(delivery.endpoint.secret, int(now.timestamp()), body),
    }
    code: int | None = None
    error = ""
    started = time.monotonic()
    try:
        response = requests.post(
            delivery.endpoint.url,
            data=body,
            headers=headers,
            timeout=float(_setting("TIMEOUT", TIMEOUT)),
            allow_redirects=False,
        )
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    duration = int((time.monotonic() - started) * 1000)

    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        WebhookAttempt.objects.create(
            delivery=delivery, number=number, at=now, response_code=code, error=error, duration_ms=duration
        )
        delivery.attempts = number
        delivery.response_code = code
        delivery.last_error = error
        if not error:
            delivery.status, delivery.delivered_at, delivery.next_try_at = WebhookDelivery.Status.DELIVERED, now, None
        elif number >= int(_setting("MAX_ATTEMPTS", MAX_ATTEMPTS)):
            delivery.status, delivery.next_try_at = WebhookDelivery.Status.FAILED, None
            log.warning("webhook %s gave up after %s attempts: %s", delivery, number, error)
        else:
            delivery.next_try_at = now + backoff(number)
        delivery.save()
    if delivery.status == WebhookDelivery.Status.PENDING and not settings.CELERY_TASK_ALWAYS_EAGER:
        from .tasks import deliver

        deliver.apply_async((delivery.pk,), countdown=backoff(number).total_seconds())
    return delivery


def deliver_due(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Attempt every pending delivery whose next try is due; returns how many were attempted."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_try_at__lte=now)
    done = 0
    for pk in due.order_by("next_try_at").values_list("pk", flat=True)[:limit]:
        if attempt(pk, now=now) is not None:
            done += 1
    return done


def delivery_replay(*, delivery: WebhookDelivery, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """Send a delivery again (after a receiver lost it, or gave up): same payload and event id, a fresh
    signature. The receiver recognises the repeat by ``X-Timebank-Event-Id`` (also ``id`` in the body)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.PENDING, next_try_at=None)
    return attempt(delivery.pk, now=now, force=True)
