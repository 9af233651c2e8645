"""Partner organisations, their volunteer teams, projects, a project competition and group events.

A group event's attendance sheet is posted once, through the ledger's batch path
(:func:`timebank.ledger.services.group_credit_batch`): the sheet row points at the batch it made.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from timebank.ledger.models import Batch
from timebank.people.models import Resident
from timebank.places.models import Region, Site


class Organisation(models.Model):
    """A partner organisation (Red Cross, youth league, a school, a social organisation).

    Updates: name, region and ``active``. Deletion: never while teams point at it (PROTECT); deactivate.
    Guarantees: the name is unique.
    """

    class Kind(models.TextChoices):
        RED_CROSS = "red_cross", _("Red Cross")
        YOUTH_LEAGUE = "youth_league", _("Youth league")
        SCHOOL = "school", _("School")
        SOCIAL_ORG = "social_org", _("Social organisation")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=96, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["red_cross", "youth_league", "school", "social_org", "other"]),
                name="organisation_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OrganisationStaff(models.Model):
    """A login account that manages an organisation's teams, projects and events.

    Updates: ``active`` only. Deletion: never; deactivate. Guarantees: one row per user and organisation.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organisation_roles")
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation staff")
        verbose_name_plural = _("organisation staff")
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="orgstaff_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation}"


class Team(models.Model):
    """A volunteer team of an organisation, at city, school, town or community level.

    Updates: name and ``active``. Deletion: never (events, hours and honours point at it); deactivate.
    Guarantees: a team name is unique within its organisation; the level is one of the four.
    """

    class Level(models.TextChoices):
        CITY = "city", _("City")
        SCHOOL = "school", _("School")
        TOWN = "town", _("Town or street")
        COMMUNITY = "community", _("Community")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="teams", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=96)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_name_unique_in_org"),
            models.CheckConstraint(
                condition=Q(level__in=["city", "school", "town", "community"]), name="team_level_valid"
            ),
        ]
        indexes = [models.Index(fields=["region", "active"], name="team_region_idx")]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    """A person's membership of a team, as leader or member.

    Updates: ``role`` and ``left_at`` through the services (a team keeps at least one leader: the
    services refuse to remove or demote its last one). Deletion: never; a member who leaves gets ``left_at``.
    Guarantees: one live membership per person per team (partial UNIQUE); a member leaves on or after
    joining (CHECK).
    """

    class Role(models.TextChoices):
        LEADER = "leader", _("Leader")
        MEMBER = "member", _("Member")

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="members", verbose_name=_("team"))
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="team_memberships", verbose_name=_("volunteer")
    )
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(
                fields=["team", "resident"], condition=Q(left_on__isnull=True), name="teammember_one_live"
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")), name="teammember_left_after_join"
            ),
            models.CheckConstraint(condition=Q(role__in=["leader", "member"]), name="teammember_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.resident} · {self.team} ({self.get_role_display()})"


class Project(models.Model):
    """A volunteer service project (志愿服务项目) run by a team.

    Updates: description, status and places wanted. Deletion: never (logs, nominations point at it).
    Guarantees: places wanted ≥ 0 (CHECK); the status is one of the three.
    """

    class Status(models.TextChoices):
        RECRUITING = "recruiting", _("Recruiting")
        RUNNING = "running", _("Running")
        CLOSED = "closed", _("Closed")

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="projects", verbose_name=_("team"))
    title = models.CharField(_("title"), max_length=96)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RECRUITING)
    places_wanted = models.PositiveIntegerField(_("volunteers wanted"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer project")
        verbose_name_plural = _("volunteer projects")
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["recruiting", "running", "closed"]), name="project_status_valid"
            ),
            models.CheckConstraint(condition=Q(places_wanted__gte=0), name="project_places_nonneg"),
            models.UniqueConstraint(fields=["team", "title"], name="project_title_unique_in_team"),
        ]

    def __str__(self) -> str:
        return self.title


class ProjectSignup(models.Model):
    """A volunteer signed up for a project.

    Updates: ``withdrawn_at`` only. Deletion: never. Guarantees: one live sign-up per person per project.
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="signups")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="project_signups")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("project sign-up")
        verbose_name_plural = _("project sign-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "resident"], condition=Q(withdrawn_at__isnull=True), name="projectsignup_one_live"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident} → {self.project}"


class ProjectLog(models.Model):
    """A dated entry in a project's record: what the team did and how many people it reached.

    Updates: never (a correction is a new entry). Deletion: never. Guarantees: people reached ≥ 0.
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="logs")
    day = models.DateField(_("day"))
    text = models.TextField(_("what was done"))
    people_reached = models.PositiveIntegerField(_("people reached"), default=0)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("project log entry")
        verbose_name_plural = _("project log entries")
        ordering = ["-day", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(people_reached__gte=0), name="projectlog_people_nonneg")]

    def __str__(self) -> str:
        return f"{self.project} {self.day}"


class Competition(models.Model):
    """A project competition: nominated projects are scored by judges on named criteria.

    Updates: ``status`` and ``closed_at`` (open → closed, once). Deletion: never.
    Guarantees: the status is one of two and a closed competition has a closing time (CHECK); the
    services require at least one criterion and refuse scores once it is closed.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=96)
    year = models.PositiveSmallIntegerField(_("year"))
    criteria = models.JSONField(_("criteria"), default=list)
    judges = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="judged_competitions", blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("project competition")
        verbose_name_plural = _("project competitions")
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(fields=["title", "year"], name="competition_title_year_unique"),
            models.CheckConstraint(condition=Q(status__in=["open", "closed"]), name="competition_status_valid"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_at__isnull=False), name="competition_closed_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"


class Nomination(models.Model):
    """A project put forward in a competition.

    Updates: never. Deletion: never. Guarantees: a project is nominated once per competition.
    """

    competition = models.ForeignKey(Competition, on_delete=models.PROTECT, related_name="nominations")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="nominations")
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        constraints = [
            models.UniqueConstraint(fields=["competition", "project"], name="nomination_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.project} @ {self.competition}"


class Score(models.Model):
    """One judge's points for one nomination on one criterion.

    Updates: ``points``, while the competition is open (a judge may change their mind). Deletion: never.
    Guarantees: 0 ≤ points ≤ 100 (CHECK); one score per judge,
    nomination and criterion (UNIQUE).
    """

    nomination = models.ForeignKey(Nomination, on_delete=models.PROTECT, related_name="scores")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    criterion = models.CharField(_("criterion"), max_length=64)
    points = models.PositiveSmallIntegerField(_("points"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0) & Q(points__lte=100), name="score_points_range"),
            models.UniqueConstraint(fields=["nomination", "judge", "criterion"], name="score_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.nomination} {self.criterion}: {self.points}"


class GroupEvent(models.Model):
    """A group activity (e.g. a 重阳节 visit to a care home) with sign-up and one attendance sheet.

    Updates: details while no sheet is posted; ``coefficient`` is set when the sheet is posted.
    Deletion: never (sheet and ledger batch point at it).
    Guarantees: it belongs to a team or a project (CHECK); it ends after it starts (CHECK); capacity ≥ 1
    (CHECK); the coefficient, once recorded, is positive (CHECK).
    """

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="events", verbose_name=_("team")
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.PROTECT, related_name="events", verbose_name=_("project")
    )
    title = models.CharField(_("title"), max_length=96)
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("place")
    )
    place_text = models.CharField(_("place"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("places"))
    festival = models.CharField(_("festival"), max_length=32, blank=True)
    guardian_name = models.CharField(
        _("accompanying guardian or teacher"),
        max_length=64,
        blank=True,
        help_text=_("Needed before anyone under 18 may sign up."),
    )
    coefficient = models.DecimalField(
        _("festival coefficient used"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("group event")
        verbose_name_plural = _("group events")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=False) | Q(project__isnull=False), name="groupevent_has_owner"
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="groupevent_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="groupevent_capacity_positive"),
            models.CheckConstraint(
                condition=Q(coefficient__isnull=True) | Q(coefficient__gt=0), name="groupevent_coefficient_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EventSignup(models.Model):
    """A volunteer signed up for a group event.

    Updates: ``withdrawn_at`` only. Deletion: never. Guarantees: one live sign-up per person per event.
    """

    event = models.ForeignKey(GroupEvent, on_delete=models.PROTECT, related_name="signups")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="event_signups")
    signed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("event sign-up")
        verbose_name_plural = _("event sign-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "resident"], condition=Q(withdrawn_at__isnull=True), name="eventsignup_one_live"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident} → {self.event}"


class EventSheet(models.Model):
    """The attendance sheet of a group event, posted as one ledger batch.

    Updates: never. Deletion: never. Guarantees: one sheet per event (UNIQUE), pointing at exactly one
    batch (UNIQUE); ``fingerprint`` identifies its rows so a resubmission can be told apart from a change.
    """

    event = models.OneToOneField(GroupEvent, on_delete=models.PROTECT, related_name="sheet")
    batch = models.OneToOneField(Batch, on_delete=models.PROTECT, related_name="+")
    coefficient = models.DecimalField(_("festival coefficient"), max_digits=4, decimal_places=2)
    fingerprint = models.CharField(max_length=64)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attendance sheet")
        verbose_name_plural = _("attendance sheets")
        constraints = [
            models.CheckConstraint(condition=Q(coefficient__gt=0), name="eventsheet_coefficient_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.event} · {self.batch}"


class EventSheetRow(models.Model):
    """One attendee on a posted sheet: the time they served and the minutes credited.

    Updates: never. Deletion: never. Guarantees: one row per person per sheet (UNIQUE); minutes > 0 and
    credited minutes > 0 (CHECK); if times are given, they leave after they arrive (CHECK).
    """

    sheet = models.ForeignKey(EventSheet, on_delete=models.PROTECT, related_name="rows")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    arrived_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField(_("minutes served"))
    credited_minutes = models.PositiveIntegerField(_("minutes credited"))

    class Meta:
        verbose_name = _("attendance row")
        verbose_name_plural = _("attendance rows")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "resident"], name="eventsheetrow_unique"),
            models.CheckConstraint(condition=Q(minutes__gt=0), name="eventsheetrow_minutes_positive"),
            models.CheckConstraint(condition=Q(credited_minutes__gt=0), name="eventsheetrow_credited_positive"),
            models.CheckConstraint(
                condition=Q(arrived_at__isnull=True) | Q(left_at__isnull=True) | Q(left_at__gt=F("arrived_at")),
                name="eventsheetrow_left_after_arrival",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sheet} {self.resident}"
