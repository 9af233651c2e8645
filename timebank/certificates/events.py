"""Events for partner systems, sent after the transaction that caused them commits.

Other apps call these with one line (care.services.visit_confirm, ledger.services.core.insert_transfers); each
function only registers a ``transaction.on_commit`` callback, so a rolled-back change never leaves the
building. The event id is derived from the event and the object (uuid5), so the same event emitted twice
(a confirmation pressed twice) is one event, and every retry or replay of it carries the same id.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

if TYPE_CHECKING:
    from timebank.care.models import Visit
    from timebank.ledger.models import Transfer

    from .models import VolunteerCertificate

VISIT_CONFIRMED = "visit.confirmed"
TRANSFER_POSTED = "transfer.posted"
CERTIFICATE_ISSUED = "certificate.issued"
EVENTS = (VISIT_CONFIRMED, TRANSFER_POSTED, CERTIFICATE_ISSUED)
_NAMESPACE = uuid.UUID("5b0f6c8e-3d0a-4c55-9a57-6a3f0d1e2b7c")


def event_id(event: str, object_id: object) -> str:
    return "evt_" + uuid.uuid5(_NAMESPACE, f"{event}:{object_id}").hex


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def emit(event: str, object_id: object, data: dict[str, Any]) -> None:
    """Queue ``event`` for every active endpoint that wants it, once the current transaction commits."""
    eid = event_id(event, object_id)
    payload = {"id": eid, "type": event, "created": timezone.now().isoformat(), "data": data}

    def send() -> None:
        from .webhooks import enqueue

        enqueue(event=event, event_id=eid, payload=payload)

    transaction.on_commit(send)


def visit_confirmed(visit: Visit) -> None:
    emit(
        VISIT_CONFIRMED,
        visit.pk,
        {
            "visit_id": visit.pk,
            "need_id": visit.need_id,
            "volunteer_id": visit.volunteer_id,
            "credited_minutes": visit.credited_minutes,
            "confirmed_via": visit.confirmed_via,
            "confirmed_at": _iso(visit.confirmed_at),
            "transfer_id": visit.transfer_id,
        },
    )


def transfer_posted(transfer: Transfer) -> None:
    """Only transfers that move posted hours (a plain posting, or a hold released); holds are not sent."""
    if transfer.phase not in ("posted", "post"):
        return
    emit(
        TRANSFER_POSTED,
        transfer.pk,
        {
            "transfer_id": transfer.pk,
            "key": transfer.key,
            "kind": transfer.kind,
            "phase": transfer.phase,
            "minutes": transfer.amount,
            "debit_account": transfer.debit_account.code,
            "credit_account": transfer.credit_account.code,
            "ref": transfer.ref,
            "created_at": _iso(transfer.created_at),
        },
    )


def certificate_issued(cert: VolunteerCertificate) -> None:
    from .links import verify_url

    emit(
        CERTIFICATE_ISSUED,
        cert.pk,
        {
            "certificate_id": cert.pk,
            "serial": cert.serial,
            "volunteer_number": cert.volunteer_number,
            "period_start": _iso(cert.period_start),
            "period_end": _iso(cert.period_end),
            "minutes": cert.minutes,
            "issuer": cert.issuer_name,
            "issued_at": _iso(cert.issued_at),
            "verify_url": verify_url(cert.code or ""),
        },
    )
