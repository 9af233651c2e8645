"""The life of a service: the catalogue, needs, visits, ratings, disputes and the elder's card.

A need (服务需求) is what an elder asks for; a visit is one volunteer serving it. Every change of status
goes through :mod:`timebank.care.services`, which checks the transition against :data:`NEED_MOVES` /
:data:`VISIT_MOVES` and writes a :class:`CareEvent` (who, when, why) in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from timebank.ledger.models import Transfer
from timebank.people.models import Resident
from timebank.places.models import Region, Site
from timebank.training.models import Track


class Category(models.Model):
    """A group of catalogue items (the Beijing eight, Qingdao's 五助, Shanghai's additions).

    Updates: name and order. Deletion: never. Guarantees: code unique.
    """

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=96)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """A service people can ask for. Its terms (coefficient, duration, risk, certificate) live in versions.

    Updates: ``active`` and names; terms only by a new :class:`ItemVersion`. Deletion: never.
    Guarantees: code unique.
    """

    code = models.CharField(max_length=32, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="items")
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=96)
    icon = models.CharField(max_length=8, blank=True, help_text="an emoji shown on the big buttons")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["category__order", "code"]

    def __str__(self) -> str:
        return self.name


class ItemVersion(models.Model):
    """The terms of an item from a moment on. A need keeps the version it was published under.

    Updates: never. Deletion: never. Guarantees: (item, number) unique; coefficient in (0, 10].
    """

    class Risk(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    coefficient = models.DecimalField(_("coefficient"), max_digits=4, decimal_places=2)
    default_minutes = models.PositiveIntegerField(_("usual duration (minutes)"))
    risk = models.CharField(_("risk level"), max_length=8, choices=Risk.choices, default=Risk.LOW)
    required_track = models.CharField(
        _("certificate required"), max_length=16, choices=Track.choices, blank=True, default=""
    )
    effective_from = models.DateTimeField(_("effective from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("service item version")
        verbose_name_plural = _("service item versions")
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="itemversion_unique"),
            models.CheckConstraint(
                condition=Q(coefficient__gt=0, coefficient__lte=10), name="itemversion_coefficient_range"
            ),
            models.CheckConstraint(condition=Q(default_minutes__gt=0), name="itemversion_minutes_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item} v{self.number}"


class Need(models.Model):
    """A request for a service for one elder, in a time window.

    Updates: ``status`` through the services only. Deletion: never.
    Guarantees: the window ends after it starts (CHECK); the payer is fixed at publication; the own hours a
    need will spend are held in the ledger (``hold``) while it is open or assigned.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for a volunteer")
        ASSIGNED = "assigned", _("Volunteer assigned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        GUARANTEED = "guaranteed", _("Served by the government guarantee")

    class Payer(models.TextChoices):
        OWN = "own", _("The elder's own stored hours")
        POOL = "pool", _("The public time pool")
        GOVERNMENT = "government", _("The government")

    class Via(models.TextChoices):
        ELDER = "elder", _("The elder")
        PROXY = "proxy", _("A family proxy")
        STATION = "station", _("The community station")

    elder = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="needs")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="needs")
    item_version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="needs")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    via = models.CharField(_("asked through"), max_length=8, choices=Via.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="needs")
    address = models.CharField(_("place"), max_length=200)
    lat = models.FloatField()
    lon = models.FloatField()
    window_start = models.DateTimeField(_("from"))
    window_end = models.DateTimeField(_("until"))
    notes = models.TextField(_("notes"), blank=True)
    pref_language = models.CharField(_("language wanted"), max_length=8, blank=True)
    pref_gender = models.CharField(_("volunteer gender wanted"), max_length=1, blank=True)
    series = models.CharField(max_length=40, blank=True, db_index=True, help_text="weekly needs share a series")
    payer = models.CharField(_("who pays"), max_length=12, choices=Payer.choices)
    minutes_reserved = models.PositiveIntegerField(default=0)
    #: For a need paid by the elder's own hours: the ledger hold that reserves ``minutes_reserved`` of them
    #: from publication until the need is paid, cancelled or expired (then voided). Needs published before
    #: holds existed have none; :func:`timebank.care.services.need_publish` still counts those by hand.
    hold = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="reserved_for_need"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("service need")
        verbose_name_plural = _("service needs")
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gt=F("window_start")), name="need_window_valid"),
        ]
        indexes = [models.Index(fields=["status", "window_start"], name="need_status_idx")]

    def __str__(self) -> str:
        return f"{self.item} · {self.elder}"


class Application(models.Model):
    """A volunteer offers to serve a need.

    Updates: ``status``. Deletion: never. Guarantees: one application per volunteer and need.
    """

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        ACCEPTED = "accepted", _("Accepted")
        NOT_CHOSEN = "not_chosen", _("Not chosen")

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="applications")
    volunteer = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.APPLIED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [models.UniqueConstraint(fields=["need", "volunteer"], name="application_unique")]

    def __str__(self) -> str:
        return f"{self.volunteer} → {self.need}"


class Visit(models.Model):
    """One volunteer serving one need.

    Updates: status and the check-in/out, confirmation and ledger fields, only through the services.
    Deletion: never. Guarantees: one live visit per need (unique ``need`` among non-cancelled visits);
    check-out after check-in (CHECK); one ledger transfer per visit (unique ``transfer``).
    """

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        CHECKED_IN = "checked_in", _("Checked in")
        CHECKED_OUT = "checked_out", _("Checked out")
        CONFIRMED = "confirmed", _("Confirmed")
        RATED = "rated", _("Rated")
        DISPUTED = "disputed", _("Disputed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("Volunteer did not come")
        VOIDED = "voided", _("Not paid after a complaint")
        TOO_SHORT = "too_short", _("Too short to earn hours")

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="visits")
    volunteer = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="visits")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ASSIGNED)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    check_in_at = models.DateTimeField(null=True, blank=True)
    check_in_method = models.CharField(max_length=8, blank=True)
    code_failures = models.PositiveSmallIntegerField(default=0)
    check_in_lat = models.FloatField(null=True, blank=True)
    check_in_lon = models.FloatField(null=True, blank=True)
    check_out_at = models.DateTimeField(null=True, blank=True)
    actual_minutes = models.PositiveIntegerField(null=True, blank=True)
    credited_minutes = models.PositiveIntegerField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_via = models.CharField(max_length=8, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    transfer = models.OneToOneField(Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="visit")
    hold = models.OneToOneField(Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="held_visit")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.CheckConstraint(
                condition=Q(check_out_at__isnull=True)
                | Q(check_in_at__isnull=False, check_out_at__gt=F("check_in_at")),
                name="visit_checkout_after_checkin",
            ),
            models.UniqueConstraint(
                fields=["need"], condition=~Q(status__in=["cancelled", "no_show"]), name="visit_one_live_per_need"
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "check_in_at"], name="visit_volunteer_idx")]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.need}"


class CareEvent(models.Model):
    """Audit of every status change of a need or a visit.

    Updates: never. Deletion: never. Guarantees: written in the transaction that made the change.
    """

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="events")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("care event")
        verbose_name_plural = _("care events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"


class Rating(models.Model):
    """One side's rating of a visit: the elder's (or proxy's) of the volunteer, or the volunteer's.

    Updates: never. Deletion: never. Guarantees: one rating per side per visit; stars 1–5 (CHECK).
    """

    class Side(models.TextChoices):
        ELDER = "elder", _("Elder's side")
        VOLUNTEER = "volunteer", _("Volunteer's side")

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="ratings")
    side = models.CharField(max_length=10, choices=Side.choices)
    stars = models.PositiveSmallIntegerField(_("stars"))
    tags = models.JSONField(_("tags"), default=list)
    comment = models.TextField(_("comment"), blank=True)
    is_complaint = models.BooleanField(_("complaint"), default=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.UniqueConstraint(fields=["visit", "side"], name="rating_one_per_side"),
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_range"),
        ]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.side} {self.stars}★"


class Dispute(models.Model):
    """A complaint about a visit: its hours are held (a pending transfer) until a social worker decides.

    Updates: the resolution fields once. Deletion: never. Guarantees: one dispute per visit; a resolved
    dispute has a written reason (CHECK).
    """

    class Outcome(models.TextChoices):
        POST = "post", _("Paid in full")
        PART = "part", _("Paid in part")
        VOID = "void", _("Not paid")

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="dispute")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    complaint = models.TextField(_("complaint"))
    opened_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, blank=True)
    minutes_paid = models.PositiveIntegerField(null=True, blank=True)
    resolution = models.TextField(_("reason for the decision"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            models.CheckConstraint(condition=Q(outcome="") | ~Q(resolution=""), name="dispute_resolution_has_reason"),
        ]

    def __str__(self) -> str:
        return f"dispute {self.visit_id}"


class ElderCard(models.Model):
    """The elder's printed card: a QR code (``token``) and a 6-digit PIN for check-in.

    Only hashes are stored. Regenerating the card revokes the previous one.
    Updates: ``revoked_at`` once. Deletion: never. Guarantees: one live card per elder (unique condition).
    """

    elder = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="cards")
    token_hash = models.CharField(max_length=64, unique=True)
    pin_hash = models.CharField(max_length=64)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("elder card")
        verbose_name_plural = _("elder cards")
        constraints = [
            models.UniqueConstraint(fields=["elder"], condition=Q(revoked_at__isnull=True), name="eldercard_one_live"),
        ]

    def __str__(self) -> str:
        return f"card {self.elder_id} {self.issued_at:%Y-%m-%d}"
