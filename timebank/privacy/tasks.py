"""Periodic privacy work, run by Celery beat (see CELERY_BEAT_SCHEDULE in settings)."""

from __future__ import annotations

from celery import shared_task

from .services import retention_apply


@shared_task(name="privacy.retention")
def retention() -> dict[str, int]:
    """Pseudonymise people whose retention after leaving has passed; drop audit rows past their retention."""
    result = retention_apply()
    return {"pseudonymised": result.pseudonymised, "views_deleted": result.views_deleted}
