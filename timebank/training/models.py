"""Training certificates: what a volunteer is qualified for, and until when.

Only certificates for now (the catalogue's gating needs them); courses, sessions and enrolment come with
the Training issue and will issue certificates through :func:`timebank.training.services.certificate_issue`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from timebank.people.models import Resident


class Track(models.TextChoices):
    MATERNITY = "maternity", _("Mother and baby care")
    DOMESTIC = "domestic", _("Home care")
    ELDERLY = "elderly", _("Elderly care")
    MEDICAL = "medical", _("Medical care")


class Certificate(models.Model):
    """A training certificate held by a resident.

    Updates: ``revoked_at`` and ``revoked_reason`` only. Deletion: never (visits were judged by it).
    Guarantees: the validity period is not empty (CHECK); the number is unique.
    """

    holder = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="certificates")
    track = models.CharField(_("track"), max_length=16, choices=Track.choices)
    number = models.CharField(_("certificate number"), max_length=40, unique=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("training certificate")
        verbose_name_plural = _("training certificates")
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="certificate_period_valid"),
        ]
        indexes = [models.Index(fields=["holder", "track", "valid_until"], name="certificate_holder_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.get_track_display()}"
