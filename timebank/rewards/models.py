"""Star levels (星级志愿者), falsification bars, honours and non-cash rewards.

Star levels are never stored as a number someone can set: they are computed from the recorded service
(:func:`timebank.rewards.selectors.service_minutes`). :class:`StarLevelReached` only records *when* a level
was first reached, written by the service that recomputes from history. Rewards are recorded entitlements
(priority admission to public care homes, partner benefits); nothing here touches the ledger, so hours are
never turned into cash or goods.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from timebank.care.models import Visit
from timebank.ledger.models import Batch, Transfer
from timebank.people.models import Resident
from timebank.places.models import Region
from timebank.teams.models import Team


class Falsification(models.Model):
    """A service record found to be false: its hours were reversed through the ledger and the person (or, for
    a group event's attendance sheet, the team) barred.

    Updates: never. Deletion: never (PROTECT from the bar).
    Guarantees: names exactly one of a visit, a ledger transfer or a group event's ledger batch (CHECK);
    names the person for a visit or a transfer and the team for a batch (CHECK); each is falsified at
    most once (unique); the reversed and the not-reversed minutes are what the ledger could and could not
    take back (hours already given away stay where they are).
    """

    person = models.ForeignKey(
        Resident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="falsifications",
        verbose_name=_("volunteer"),
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="falsifications", verbose_name=_("team")
    )
    batch = models.OneToOneField(
        Batch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="falsification",
        verbose_name=_("group event hours"),
    )
    visit = models.OneToOneField(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="falsification", verbose_name=_("visit")
    )
    transfer = models.OneToOneField(
        Transfer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="falsification",
        verbose_name=_("ledger record"),
    )
    minutes = models.PositiveIntegerField(_("service minutes taken off the record"))
    reversed_minutes = models.PositiveIntegerField(_("minutes moved back"), default=0)
    unreversed_minutes = models.PositiveIntegerField(_("minutes that could not be moved back"), default=0)
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("falsified record")
        verbose_name_plural = _("falsified records")
        constraints = [
            models.CheckConstraint(
                condition=Q(visit__isnull=False, transfer__isnull=True, batch__isnull=True)
                | Q(visit__isnull=True, transfer__isnull=False, batch__isnull=True)
                | Q(visit__isnull=True, transfer__isnull=True, batch__isnull=False),
                name="falsification_one_record",
            ),
            models.CheckConstraint(
                condition=Q(batch__isnull=True, person__isnull=False, team__isnull=True)
                | Q(batch__isnull=False, person__isnull=True, team__isnull=False),
                name="falsification_person_or_team",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="falsification_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.person or self.team} · {self.minutes} min"


class Bar(models.Model):
    """A bar from star levels, honours and rewards (DOMAIN.md: 1–3 years after falsified hours).

    In force from ``starts_on`` (included) until ``ends_on`` (excluded); then eligibility returns by itself.
    Updates: never. Deletion: never.
    Guarantees: it ends after it starts and lasts 1–3 years (CHECK); it names exactly one person or team
    (CHECK).
    """

    person = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="bars", verbose_name=_("volunteer")
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="bars", verbose_name=_("team")
    )
    falsification = models.ForeignKey(
        Falsification, null=True, blank=True, on_delete=models.PROTECT, related_name="bars"
    )
    years = models.PositiveSmallIntegerField(_("years"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("bar")
        verbose_name_plural = _("bars")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="bar_ends_after_start"),
            models.CheckConstraint(condition=Q(years__gte=1, years__lte=3), name="bar_years_range"),
            models.CheckConstraint(
                condition=Q(person__isnull=False, team__isnull=True) | Q(person__isnull=True, team__isnull=False),
                name="bar_person_or_team",
            ),
        ]
        indexes = [models.Index(fields=["person", "ends_on"], name="bar_person_idx")]

    def __str__(self) -> str:
        return f"{self.person or self.team} {self.starts_on}–{self.ends_on}"


class StarLevelReached(models.Model):
    """The day someone first reached a star level, so honours, rewards and the honour roll can cite it.

    Written only by :func:`timebank.rewards.services.star_levels_record`, which recomputes from the service
    history; never by hand. Updates: ``voided_at``/``void_reason`` once, when a correction or a falsification
    takes the recorded service below the level. Deletion: never.
    Guarantees: level 1–5 (CHECK); one live row per person and level (unique among non-voided rows);
    a voided row has a reason (CHECK).
    """

    person = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="star_levels", verbose_name=_("volunteer")
    )
    level = models.PositiveSmallIntegerField(_("stars"))
    reached_on = models.DateField(_("reached on"))
    minutes = models.PositiveIntegerField(_("recorded service (minutes) when recorded"))
    recorded_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("star level reached")
        verbose_name_plural = _("star levels reached")
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=5), name="starlevel_level_range"),
            models.UniqueConstraint(
                fields=["person", "level"], condition=Q(voided_at__isnull=True), name="starlevel_one_live_per_level"
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""), name="starlevel_void_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["reached_on", "level"], name="starlevel_reached_idx")]

    def __str__(self) -> str:
        return f"{self.person} {self.level}★ {self.reached_on}"


class Honour(models.Model):
    """An honour or award with its citation (优秀志愿者, a 五星志愿者 announcement, …), shown on the town's roll.

    Updates: the withdrawal fields once (with a reason). Deletion: never.
    Guarantees: year in 2000–2100 (CHECK); title and citation are written (CHECK); it names exactly one
    person or team, and a team honour is of the team kind (CHECK); one live honour of a kind per person
    (or team) and year (unique among non-withdrawn rows); a withdrawal has a reason (CHECK).
    """

    class Kind(models.TextChoices):
        EXCELLENT_VOLUNTEER = "excellent_volunteer", _("Outstanding volunteer (优秀志愿者)")
        FIVE_STAR = "five_star", _("Five-star volunteer announcement (五星志愿者)")
        AWARD = "award", _("Other award")
        EXCELLENT_TEAM = "excellent_team", _("Outstanding team (优秀团队)")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    year = models.PositiveSmallIntegerField(_("year"))
    citation = models.TextField(_("citation"))
    person = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="honours", verbose_name=_("volunteer")
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="honours", verbose_name=_("team")
    )
    town = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("town or street"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True)

    class Meta:
        verbose_name = _("honour")
        verbose_name_plural = _("honours")
        ordering = ["-year", "-granted_at"]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="honour_year_range"),
            models.CheckConstraint(condition=~Q(title="") & ~Q(citation=""), name="honour_has_title_citation"),
            models.UniqueConstraint(
                fields=["person", "kind", "year"],
                condition=Q(withdrawn_at__isnull=True),
                name="honour_one_live_per_person_kind_year",
            ),
            models.UniqueConstraint(
                fields=["team", "kind", "year"],
                condition=Q(withdrawn_at__isnull=True),
                name="honour_one_live_per_team_kind_year",
            ),
            models.CheckConstraint(
                condition=Q(person__isnull=False, team__isnull=True) & ~Q(kind="excellent_team")
                | Q(person__isnull=True, team__isnull=False, kind="excellent_team"),
                name="honour_person_or_team",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | ~Q(withdraw_reason=""), name="honour_withdrawal_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["town", "year"], name="honour_town_year_idx")]

    def __str__(self) -> str:
        return f"{self.year} {self.title} · {self.person or self.team}"


class RewardKind(models.Model):
    """A reward that is not cash: priority admission to public care homes, a partner's benefit.

    Updates: ``active`` through the services. Deletion: never (PROTECT from entitlements).
    Guarantees: code unique; the minimum star level is 1–5 (CHECK). There is no amount of hours or money
    on a reward: it never touches the ledger.
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=96)
    description = models.TextField(_("description"), blank=True)
    min_stars = models.PositiveSmallIntegerField(_("minimum star level"))
    provider = models.CharField(_("partner or provider"), max_length=96)
    priority_admission = models.BooleanField(
        _("priority admission to public care homes"),
        default=False,
        help_text=_("care-home staff look these entitlements up at admission"),
    )
    active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("kind of reward")
        verbose_name_plural = _("kinds of reward")
        ordering = ["min_stars", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(min_stars__gte=1, min_stars__lte=5), name="rewardkind_min_stars_range"),
        ]

    def __str__(self) -> str:
        return self.name


class Entitlement(models.Model):
    """A reward recorded for a resident (granted by star level, never bought with hours).

    Updates: the revocation fields once (with a reason). Deletion: never.
    Guarantees: one live entitlement per resident and kind (unique among non-revoked rows); a revocation
    has a reason (CHECK); the star level at the grant is kept (1–5, CHECK).
    """

    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="entitlements", verbose_name=_("resident")
    )
    kind = models.ForeignKey(
        RewardKind, on_delete=models.PROTECT, related_name="entitlements", verbose_name=_("reward")
    )
    stars_at_grant = models.PositiveSmallIntegerField(_("star level when granted"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "kind"], condition=Q(revoked_at__isnull=True), name="entitlement_one_live"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""), name="entitlement_revoke_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(stars_at_grant__gte=1, stars_at_grant__lte=5), name="entitlement_stars_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} · {self.resident}"
