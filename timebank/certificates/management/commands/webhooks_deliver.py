"""Send the webhook deliveries that are due (retries after back-off); cron or Celery beat runs it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from timebank.certificates.webhooks import deliver_due


class Command(BaseCommand):
    help = "Attempt every pending webhook delivery whose next try is due."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{deliver_due()} deliveries attempted")
