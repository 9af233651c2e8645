"""Time Bank (时间银行): a city-wide elderly-care time bank."""

from .celery import app as celery_app

__all__ = ["celery_app"]
