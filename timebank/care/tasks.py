"""Periodic care work, run by Celery beat (see CELERY_BEAT_SCHEDULE in settings)."""

from __future__ import annotations

from celery import shared_task

from .services import needs_expire


@shared_task(name="care.expire_needs")
def expire_needs() -> int:
    """Mark open needs whose time window has passed as expired; returns how many."""
    return needs_expire()
