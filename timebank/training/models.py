"""Training (培训): courses in four tracks, sessions at service sites, enrolment with a waiting list,
attendance, assessment, certificates with a validity period, and annual targets.

A pass in an assessment issues a :class:`Certificate` through
:func:`timebank.training.services.certificate_issue`'s rules; care's checks ask
:func:`timebank.training.selectors.holds_valid_certificate` whether a volunteer may serve an item.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from timebank.people.models import Resident
from timebank.places.models import Region, Site


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
        indexes = [
            models.Index(fields=["holder", "track", "valid_until"], name="certificate_holder_idx"),
            models.Index(fields=["valid_until"], name="certificate_until_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_track_display()}"


class Course(models.Model):
    """A course of the city's training catalogue, in one of the four tracks.

    Updates: ``active`` (a course is retired, never removed). Deletion: never while sessions point at it
    (PROTECT). Guarantees: teaching time > 0 minutes; validity 1–120 months; pass mark 0–100; one title per
    track.
    """

    track = models.CharField(_("track"), max_length=16, choices=Track.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    teaching_minutes = models.PositiveIntegerField(_("teaching time (minutes)"))
    validity_months = models.PositiveSmallIntegerField(_("certificate valid for (months)"))
    pass_score = models.PositiveSmallIntegerField(_("pass mark"), default=60)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["track", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(teaching_minutes__gt=0), name="course_teaching_positive"),
            models.CheckConstraint(
                condition=Q(validity_months__gte=1, validity_months__lte=120), name="course_validity_range"
            ),
            models.CheckConstraint(condition=Q(pass_score__lte=100), name="course_pass_score_range"),
            models.CheckConstraint(
                condition=Q(track__in=["maternity", "domestic", "elderly", "medical"]), name="course_track_known"
            ),
            models.UniqueConstraint(fields=["track", "title"], name="course_title_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_track_display()})"


class Session(models.Model):
    """One run of a course at a service site, with a trainer, a number of seats and dates.

    ``enrolled_count`` is the number of enrolments with status *enrolled*, kept in the same transaction as
    every enrolment change (the session row is locked first), so the database itself refuses more people
    than seats.

    Updates: ``capacity`` (never below ``enrolled_count``), ``enrolled_count``, ``status``/``cancelled_*``.
    Deletion: never (PROTECT from enrolments). Guarantees: capacity > 0; 0 ≤ enrolled_count ≤ capacity;
    the session ends after it starts (CHECKs).
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CANCELLED = "cancelled", _("Cancelled")

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("course"))
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="training_sessions", verbose_name=_("site"))
    trainer = models.CharField(_("trainer"), max_length=64)
    capacity = models.PositiveIntegerField(_("seats"))
    enrolled_count = models.PositiveIntegerField(default=0)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    cancelled_reason = models.CharField(max_length=200, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gt=0), name="session_capacity_positive"),
            models.CheckConstraint(condition=Q(enrolled_count__lte=F("capacity")), name="session_not_over_capacity"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"),
            models.CheckConstraint(condition=Q(status__in=["open", "cancelled"]), name="session_status_known"),
        ]
        indexes = [models.Index(fields=["starts_at"], name="session_starts_idx")]

    def __str__(self) -> str:
        return f"{self.course.title} · {self.site.name} · {self.starts_at:%Y-%m-%d}"


class Enrolment(models.Model):
    """A resident's place in a session: enrolled (a seat), waiting (in order), or cancelled.

    The waiting list is ordered by ``queued_at`` then ``pk``; when a seat frees, the first waiting person is
    enrolled. Attendance and assessment are recorded on enrolled people only; a pass links the certificate.

    Updates: ``status`` (waiting → enrolled, enrolled/waiting → cancelled), ``enrolled_at``,
    ``cancelled_at``, ``attended``, ``score``/``passed``/``assessed_on``/``certificate`` (once).
    Deletion: never. Guarantees: one live (not cancelled) enrolment per person per session (partial UNIQUE);
    an enrolled row has ``enrolled_at``; attendance only for enrolled people; an assessment only for people
    who attended; a certificate only for a pass; score 0–100 (CHECKs).
    """

    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled")
        WAITING = "waiting", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="enrolments")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="enrolments")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    queued_at = models.DateTimeField(_("asked at"))
    enrolled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    assessed_on = models.DateField(null=True, blank=True)
    certificate = models.OneToOneField(
        Certificate, null=True, blank=True, on_delete=models.PROTECT, related_name="enrolment"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "resident"], condition=~Q(status="cancelled"), name="enrolment_one_live"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["enrolled", "waiting", "cancelled"]), name="enrolment_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="enrolled") | Q(enrolled_at__isnull=False), name="enrolment_enrolled_has_time"
            ),
            models.CheckConstraint(
                condition=Q(attended__isnull=True) | Q(status="enrolled"), name="enrolment_attendance_if_enrolled"
            ),
            models.CheckConstraint(
                condition=Q(passed__isnull=True) | Q(attended=True, score__isnull=False, assessed_on__isnull=False),
                name="enrolment_assessed_if_attended",
            ),
            models.CheckConstraint(
                condition=Q(certificate__isnull=True) | Q(passed=True), name="enrolment_certificate_if_passed"
            ),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=100), name="enrolment_score_range"),
        ]
        indexes = [
            models.Index(fields=["session", "status", "queued_at"], name="enrolment_queue_idx"),
            models.Index(fields=["resident", "status"], name="enrolment_resident_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.resident} · {self.session} · {self.status}"


class TrainingTarget(models.Model):
    """How many people should pass training in a track in a year, in one town or (no region) the whole city.

    Set by staff: a town administrator for their town, a city supervisor for any town or the city.
    Progress counts the distinct people who passed an assessment that year in sessions at the town's sites.

    Updates: ``count``, ``set_by``, ``set_at`` (setting it again replaces the number). Deletion: never.
    Guarantees: count ≥ 0; one target per year, track and town, and one city-wide per year and track
    (partial UNIQUEs); a sensible year.
    """

    year = models.PositiveSmallIntegerField(_("year"))
    track = models.CharField(_("track"), max_length=16, choices=Track.choices)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("town")
    )
    count = models.IntegerField(_("people to train"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("training target")
        verbose_name_plural = _("training targets")
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=0), name="target_count_not_negative"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="target_year_range"),
            models.CheckConstraint(
                condition=Q(track__in=["maternity", "domestic", "elderly", "medical"]), name="target_track_known"
            ),
            models.UniqueConstraint(
                fields=["year", "track", "region"], condition=Q(region__isnull=False), name="target_town_unique"
            ),
            models.UniqueConstraint(
                fields=["year", "track"], condition=Q(region__isnull=True), name="target_city_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_track_display()} {self.region or '—'}: {self.count}"
