"""Volunteer service certificates (志愿服务证明) and outgoing webhooks for partner systems.

A certificate follows 申请 → 受理 → 开具 → 公示 (applied → accepted → issued → published); staff may refuse
an application (rejected) and withdraw an issued or published certificate (revoked, with a reason).
What the certificate states (hours, service content, issuing body) is frozen when it is issued: the hours
come from the ledger at that moment ("谁记录谁证明": the time bank that recorded the service certifies it).

Updates: only through :mod:`timebank.certificates.services`. Deletion: never.
Guarantees: ``serial`` and ``code`` are unique once issued; a certificate's period is not reversed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from timebank.people.models import Resident


class VolunteerCertificate(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        ISSUED = "issued", _("Issued")
        PUBLISHED = "published", _("Published")
        REVOKED = "revoked", _("Revoked")

    volunteer = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="service_certificates", verbose_name=_("volunteer")
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.APPLIED)

    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField(auto_now_add=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    rejected_reason = models.CharField(_("reason"), max_length=200, blank=True)

    # frozen at issue
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    serial = models.CharField(_("certificate number"), max_length=32, null=True, blank=True, unique=True)
    code = models.CharField(_("verification code"), max_length=32, null=True, blank=True, unique=True)
    minutes = models.IntegerField(_("service minutes"), null=True, blank=True)
    total_minutes = models.IntegerField(_("all recorded service minutes"), null=True, blank=True)
    content = models.CharField(_("service content"), max_length=400, blank=True)
    issuer_name = models.CharField(_("issuing body"), max_length=120, blank=True)
    volunteer_number = models.CharField(_("volunteer number"), max_length=32, blank=True)

    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(_("reason for revoking"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("volunteer service certificate")
        verbose_name_plural = _("volunteer service certificates")
        indexes = [models.Index(fields=["volunteer", "status"], name="volcert_vol_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="volcert_period_order"),
            models.CheckConstraint(
                condition=Q(status__in=["applied", "accepted", "rejected"])
                | (Q(serial__isnull=False) & Q(code__isnull=False) & Q(minutes__isnull=False)),
                name="volcert_issued_has_facts",
            ),
        ]

    def __str__(self) -> str:
        return self.serial or f"#{self.pk}"


class WebhookEndpoint(models.Model):
    """A partner system's receiver. ``events`` lists the event names it wants (empty list: all events).

    The secret signs every delivery (see docs/webhooks.md); it is stored encrypted like ID numbers.
    """

    name = models.CharField(_("name"), max_length=96)
    url = models.URLField(_("URL"), max_length=400)
    secret = EncryptedCharField(_("secret"), max_length=128)
    events = models.JSONField(_("events"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class WebhookDelivery(models.Model):
    """One event for one endpoint, with every attempt counted. ``event_id`` is the same on every attempt
    and every replay, so a receiver can tell a repeat from a new event."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")  # gave up after the last attempt

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    event = models.CharField(_("event"), max_length=48)
    event_id = models.CharField(_("event id"), max_length=40, db_index=True)
    payload = models.JSONField(_("payload"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    response_code = models.PositiveIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    next_try_at = models.DateTimeField(_("next try"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "next_try_at"], name="webhook_due_idx")]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once")]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """Each HTTP attempt of a delivery: when, what came back, how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique")]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
