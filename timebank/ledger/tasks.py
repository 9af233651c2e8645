"""Periodic ledger work, run by Celery beat (see CELERY_BEAT_SCHEDULE in settings)."""

from __future__ import annotations

from celery import shared_task

from .sealing import seal_transfers, verify_ledger
from .services import hours_expire


@shared_task(name="ledger.seal")
def seal() -> int:
    """Seal the committed, unsealed transfers; returns how many were sealed."""
    return sum(s.count for s in seal_transfers())


@shared_task(name="ledger.verify")
def verify() -> list[str]:
    """Recompute the ledger; returns the problems found (empty when all is well). Alert on a non-empty result."""
    report = verify_ledger()
    return [f"[{p.kind}] {p.text}" for p in report.problems]


@shared_task(name="ledger.expire")
def expire() -> int:
    """Expire hours under the expiry policy (nothing happens while the policy is 0, the default)."""
    return len(hours_expire())
