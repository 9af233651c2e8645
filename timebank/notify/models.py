"""Messages to residents (in-app now; SMS delivery is an edge we mock)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from timebank.people.models import Resident


class Notification(models.Model):
    """A message to one resident.

    Updates: only ``read_at``. Deletion: never. Guarantees: text is stored in the words the person saw.
    """

    recipient = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="notifications")
    topic = models.CharField(_("topic"), max_length=48)
    text = models.TextField(_("message"))
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "-created_at"], name="notify_recipient_idx")]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.topic}"
