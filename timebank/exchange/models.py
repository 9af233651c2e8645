"""What the exchange with the national volunteer information system and the city platform keeps.

* :class:`VolunteerNumber`: a volunteer number that came from another system (the unified number the
  national system uses instead of the ID number). Residents registered here have a number derived from
  the deployment code and their primary key (see :mod:`timebank.exchange.layout`), which is never stored.
* :class:`ServiceRecord`: a past service imported from a file. Its hours were credited to the volunteer
  through the ledger's batch path; it is not a :class:`~timebank.care.models.Visit` (there was no need,
  no elder in this system, no check-in), so it cannot disturb matching, dispatch or the elder's pages.
* :class:`ImportRun`: one committed import (who, which file by its SHA-256, what it changed).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from timebank.care.models import Item
from timebank.ledger.models import Batch, Transfer
from timebank.people.models import Resident
from timebank.places.models import Region


class ImportRun(models.Model):
    """A committed import of one file.

    Updates: never. Deletion: never. Guarantees: (kind, sha256) unique: the same file is committed once;
    a second commit of it finds this row and changes nothing.
    """

    class Kind(models.TextChoices):
        VOLUNTEERS = "volunteers", _("Volunteers")
        SERVICES = "services", _("Service records")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    sha256 = models.CharField(max_length=64)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("rows"))
    created = models.PositiveIntegerField(_("created"))
    unchanged = models.PositiveIntegerField(_("unchanged"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    batch = models.OneToOneField(Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        constraints = [models.UniqueConstraint(fields=["kind", "sha256"], name="importrun_file_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256[:12]}"


class VolunteerNumber(models.Model):
    """A volunteer number given by another system (national or a partner time bank) to a resident.

    Updates: never. Deletion: never. Guarantees: one number per resident, each number names one resident.
    """

    resident = models.OneToOneField(Resident, on_delete=models.PROTECT, related_name="volunteer_number")
    number = models.CharField(_("volunteer number"), max_length=40, unique=True)
    run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer number")
        verbose_name_plural = _("volunteer numbers")

    def __str__(self) -> str:
        return self.number


class ServiceRecord(models.Model):
    """A past service imported from another system's file, credited through the ledger.

    Updates: never. Deletion: never (the ledger transfer points at the hours; a wrong record is corrected
    by reversing its transfer). Guarantees: ``record_no`` unique (a record is imported once); the end
    follows the start (CHECK); minutes positive (CHECK); rating 1–5 or empty (CHECK); one transfer each.
    """

    record_no = models.CharField(_("record number"), max_length=40, unique=True)
    origin = models.CharField(_("origin system"), max_length=40)
    volunteer = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="imported_services")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    actual_minutes = models.PositiveIntegerField(_("minutes served"))
    credited_minutes = models.PositiveIntegerField(_("minutes credited"))
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    complaint = models.BooleanField(_("complaint"), default=False)
    complaint_note = models.CharField(_("complaint and its handling"), max_length=500, blank=True)
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(ImportRun, on_delete=models.PROTECT, related_name="records")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("imported service record")
        verbose_name_plural = _("imported service records")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="servicerecord_end_after_start"),
            models.CheckConstraint(
                condition=Q(actual_minutes__gt=0, credited_minutes__gt=0), name="servicerecord_minutes_positive"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="servicerecord_rating_range"
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "start"], name="servicerecord_vol_idx")]

    def __str__(self) -> str:
        return self.record_no
