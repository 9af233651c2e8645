"""Volunteer availability and reach, and the daily dispatch proposals a social worker reviews.

A volunteer's time on a day is their weekly slots (:class:`Availability`) for that weekday, changed by the
day's :class:`AvailabilityException` rows, minus the windows of visits already booked for them. How far
they go is their :class:`MatchProfile` radius (the policy ``matching.walk_radius_m`` when unset).

A :class:`DispatchProposal` is the optimiser's answer for one area and one day; its rows are only a
proposal until the social worker accepts it, and accepting books each row through
:func:`timebank.care.services.visit_assign` (the care rules decide, not this app).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from timebank.care.models import Item, Need, Visit
from timebank.people.models import Resident
from timebank.places.models import Region


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Availability(models.Model):
    """One weekly slot when a volunteer can serve (local time), e.g. Tuesday 09:00-12:00.

    Updates: never; a new schedule replaces the volunteer's slots (services.availability_set).
    Deletion: by availability_set only. Guarantees: weekday 0-6 and end after start (CHECK).
    """

    volunteer = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="availability")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("weekly availability")
        verbose_name_plural = _("weekly availability")
        ordering = ["volunteer", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="availability_weekday_range"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="availability_end_after_start"),
        ]
        indexes = [models.Index(fields=["weekday", "volunteer"], name="availability_weekday_idx")]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class AvailabilityException(models.Model):
    """A change of the weekly schedule on one date: away (``available=False``) or an extra slot.

    Without times an absence covers the whole day. Updates: never. Deletion: by the services only.
    Guarantees: an extra slot has both times; times, when given, end after they start (CHECK).
    """

    volunteer = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="availability_exceptions")
    date = models.DateField(_("date"))
    available = models.BooleanField(_("available"))
    start = models.TimeField(_("from"), null=True, blank=True)
    end = models.TimeField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("availability exception")
        verbose_name_plural = _("availability exceptions")
        ordering = ["volunteer", "date", "start"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(start__isnull=True) & Q(end__isnull=True))
                | (Q(start__isnull=False) & Q(end__isnull=False) & Q(end__gt=F("start"))),
                name="availexc_times_valid",
            ),
            models.CheckConstraint(
                condition=Q(available=False) | Q(start__isnull=False), name="availexc_extra_slot_has_times"
            ),
        ]
        indexes = [models.Index(fields=["date", "volunteer"], name="availexc_date_idx")]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.date} {'+' if self.available else '-'}"


class MatchProfile(models.Model):
    """How far a volunteer goes and what they like to do.

    Updates: through services.match_profile_set. Deletion: never. Guarantees: one per volunteer; the
    radius, when set, is positive (CHECK).
    """

    volunteer = models.OneToOneField(Resident, on_delete=models.PROTECT, related_name="match_profile")
    radius_m = models.PositiveIntegerField(_("service radius (metres)"), null=True, blank=True)
    preferred_items = models.ManyToManyField(Item, blank=True, related_name="+", verbose_name=_("preferred services"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("matching profile")
        verbose_name_plural = _("matching profiles")
        constraints = [
            models.CheckConstraint(condition=Q(radius_m__isnull=True) | Q(radius_m__gt=0), name="matchprofile_radius"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.radius_m or '-'} m"


class DispatchProposal(models.Model):
    """The optimiser's proposed assignment of one area's open needs on one day.

    Updates: rows are edited while ``draft``; ``status`` moves draft → accepted or discarded once.
    Deletion: never. Guarantees: accepted/discarded only by the services, which lock the row first.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACCEPTED = "accepted", _("Accepted")
        DISCARDED = "discarded", _("Discarded")

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    day = models.DateField(_("day"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("dispatch proposal")
        verbose_name_plural = _("dispatch proposals")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.region} {self.day} ({self.status})"


class ProposalRow(models.Model):
    """One need of a proposal and the volunteer proposed for it (none when nobody fits).

    Updates: ``volunteer``/``included`` while the proposal is a draft; ``outcome``, ``message`` and
    ``visit`` once, when it is accepted. Deletion: never. Guarantees: one row per need and proposal.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Not yet accepted")
        ASSIGNED = "assigned", _("Volunteer assigned")
        REFUSED = "refused", _("Refused by the care rules")
        SKIPPED = "skipped", _("Left out")

    proposal = models.ForeignKey(DispatchProposal, on_delete=models.PROTECT, related_name="rows")
    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="+")
    volunteer = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    distance_m = models.PositiveIntegerField(null=True, blank=True)
    cost = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=list, help_text="the plain-words explanation as [key, params] pairs")
    changed_by_hand = models.BooleanField(default=False)
    included = models.BooleanField(_("include"), default=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    refusal_code = models.CharField(max_length=48, blank=True)
    message = models.CharField(max_length=300, blank=True)
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("proposal row")
        verbose_name_plural = _("proposal rows")
        ordering = ["proposal", "pk"]
        constraints = [models.UniqueConstraint(fields=["proposal", "need"], name="proposalrow_unique_need")]

    def __str__(self) -> str:
        return f"{self.need_id} → {self.volunteer_id or '-'}"
