"""Webhook delivery tasks (see timebank.certificates.webhooks)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> None:
    from .webhooks import attempt

    attempt(delivery_id)


@shared_task(name="webhooks.deliver_due")
def deliver_due() -> int:
    from .webhooks import deliver_due as run

    return run()
