"""Shared models: the versioned policy store.

Every rule number of DOMAIN.md (ages, caps, rounding, who counts as a relative, …) is a
:class:`PolicyValue` row with an effective date, never a constant in code. The value in force on a day is
the row with the latest ``effective_from`` on or before that day, so old records keep the terms that
applied when they were made.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        abstract = True


class PolicyValue(models.Model):
    """One version of one policy value.

    Updates: never; a change is a new row with a later ``effective_from``.
    Deletion: never through the services (the history is what old records were judged by).
    Guarantees: (key, effective_from) is unique; the selector returns exactly one value per key and day.
    """

    key = models.CharField(_("policy"), max_length=64)
    value = models.JSONField(_("value"))
    effective_from = models.DateField(_("effective from"))
    note = models.TextField(_("reason for the change"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("policy value")
        verbose_name_plural = _("policy values")
        constraints = [
            models.UniqueConstraint(fields=["key", "effective_from"], name="policy_key_effective_unique"),
        ]
        indexes = [models.Index(fields=["key", "-effective_from"], name="policy_key_eff_idx")]

    def __str__(self) -> str:
        return f"{self.key} = {self.value!r} (from {self.effective_from})"
