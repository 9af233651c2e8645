"""Periodic work of the rewards app, run by Celery beat (see CELERY_BEAT_SCHEDULE in settings)."""

from __future__ import annotations

from celery import shared_task

from .services import star_levels_record


@shared_task(name="rewards.record_star_levels")
def record_star_levels() -> int:
    """Record the star levels reached (and void those no longer supported); returns the rows written."""
    return star_levels_record()
