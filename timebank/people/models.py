"""Residents (elders, volunteers, proxies), their relatives, login accounts and staff roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from timebank.places.models import Region, Site


class User(AbstractUser):
    """A login account. ``username`` is the phone number (digits only) for staff and residents.

    Updates: password, names, active flag. Deletion: deactivate instead (records point at users).
    Guarantees: username unique; a resident has at most one login account.
    """

    resident = models.OneToOneField(
        "Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="user", verbose_name=_("resident")
    )
    elder_mode = models.BooleanField(_("elder mode"), default=False)
    #: Set when a staff member made the account and so knows its first password: the owner must choose
    #: their own before anything else (timebank.web.account.middleware). Cleared by a password change.
    must_change_password = models.BooleanField(_("must choose a new password"), default=False)

    class Meta:
        verbose_name = _("user account")
        verbose_name_plural = _("user accounts")

    def __str__(self) -> str:
        """The person's name, never the login name (which is a phone number): lists and logs show this."""
        from .masking import mask_phone

        if self.first_name or self.last_name:
            return self.get_full_name()
        if self.username.lstrip("+").isdigit():
            return mask_phone(self.username)
        return self.username


class StaffRole(models.Model):
    """A staff role held by a user, with the area it covers.

    The area (``region``) bounds everything the holder may see or change: people whose home lies in the
    region's subtree. A social worker's area is the region of their site.

    Updates: ``active`` only. Deletion: never; deactivate. Guarantees: a social worker has a site; the
    region is required for every role.
    """

    class Role(models.TextChoices):
        SOCIAL_WORKER = "social_worker", _("Social worker")
        TOWN_ADMIN = "town_admin", _("Town administrator")
        CITY_SUPERVISOR = "city_supervisor", _("City bureau supervisor")
        PARTNER_ADMIN = "partner_admin", _("Partner organisation administrator")

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="staff_roles")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    organisation = models.CharField(_("organisation"), max_length=96, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="social_worker") | models.Q(site__isnull=False),
                name="staffrole_social_worker_has_site",
            ),
            models.UniqueConstraint(fields=["user", "role", "region"], name="staffrole_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.region}"


class Resident(models.Model):
    """A person registered with the time bank.

    The ID number is stored encrypted (Fernet, key derived from SECRET_KEY and FIELD_SALT_KEY) and found
    by ``id_hash``, an HMAC-SHA256 of the number under ID_HASH_KEY. Birth date and sex are derived from
    the number at registration.

    Updates: contact details, address, languages, flags and roles through the services; the ID number
    and what is derived from it never change. Deletion: never (ledger and visit records point here);
    a person who leaves is marked inactive.
    Guarantees: one resident per ID number (unique ``id_hash``).
    """

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Disability(models.TextChoices):
        NONE = "none", _("None")
        SEMI = "semi", _("Semi-disabled")
        FULL = "full", _("Disabled")

    name = models.CharField(_("name"), max_length=64)
    name_pinyin = models.CharField(max_length=160, db_index=True, editable=False)
    name_initials = models.CharField(max_length=32, db_index=True, editable=False)
    id_number = EncryptedCharField(_("ID number"), max_length=18)
    id_hash = models.CharField(max_length=64, unique=True, editable=False)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    languages = models.JSONField(_("languages"), default=list)
    home_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="residents", verbose_name=_("home community")
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)

    is_elder = models.BooleanField(_("elder"), default=False)
    is_volunteer = models.BooleanField(_("volunteer"), default=False)
    is_proxy = models.BooleanField(_("proxy"), default=False)

    lives_alone = models.BooleanField(_("lives alone"), default=False)
    disability = models.CharField(_("disability"), max_length=8, choices=Disability.choices, default="none")
    low_income = models.BooleanField(_("low-income family (dibao)"), default=False)
    lost_only_child = models.BooleanField(_("lost their only child"), default=False)
    childless_widowed = models.BooleanField(_("widowed with no children"), default=False)

    barred_until = models.DateField(_("barred from serving until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    registered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        indexes = [
            models.Index(fields=["home_region", "is_volunteer"], name="resident_region_vol_idx"),
            models.Index(fields=["home_region", "is_elder"], name="resident_region_elder_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(disability__in=["none", "semi", "full"]), name="resident_disability_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        from .idnumber import mask

        return mask(self.id_number)

    @property
    def phone_masked(self) -> str:
        """138****1234: what staff see until they reveal the number on purpose (audited)."""
        from .masking import mask_phone

        return mask_phone(self.phone)


class Relationship(models.Model):
    """``relative`` is the ``kind`` of ``resident`` (e.g. kind=child: the relative is the resident's child).

    Registering a relation writes both directions (the inverse kind on the other row). A proxy may act for
    the resident (ask for help, confirm visits, receive hours); that needs the resident's recorded
    consent (or a guardian's, or the station's record of it).

    Updates: ``is_proxy`` and consent through the services. Deletion: ended with ``ended_at``, never deleted.
    Guarantees: no one is their own relative (CHECK); one row per ordered pair (unique).
    """

    class Kind(models.TextChoices):
        SPOUSE = "spouse", _("Spouse")
        PARENT = "parent", _("Parent")
        CHILD = "child", _("Child")
        GRANDPARENT = "grandparent", _("Grandparent")
        GRANDCHILD = "grandchild", _("Grandchild")
        SIBLING = "sibling", _("Sibling")
        FRIEND = "friend", _("Friend")

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="relations")
    relative = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("relation"), max_length=16, choices=Kind.choices)
    is_proxy = models.BooleanField(_("acts as proxy"), default=False)
    consent_recorded_at = models.DateTimeField(_("consent recorded at"), null=True, blank=True)
    consent_note = models.CharField(_("how consent was given"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("relative or proxy")
        verbose_name_plural = _("relatives and proxies")
        constraints = [
            models.CheckConstraint(condition=~models.Q(resident=models.F("relative")), name="relationship_not_self"),
            models.UniqueConstraint(fields=["resident", "relative"], name="relationship_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(is_proxy=False) | models.Q(consent_recorded_at__isnull=False),
                name="relationship_proxy_needs_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.relative} → {self.resident} ({self.get_kind_display()})"


class PersonalDataView(models.Model):
    """Audit row: a staff member looked at a resident's record or revealed a full personal value.

    ``kind`` says what was seen: the record (a page, an API record, an admin form: masked values),
    the full ID number, the full phone number. Written by ``people.audit`` (and by
    ``people.services.personal_data_view_record`` for ID numbers, also in exports).

    Updates: never. Deletion: never. Guarantees: written in the same request that showed the data.
    """

    class Kind(models.TextChoices):
        RECORD = "record", _("the person's record")
        ID_NUMBER = "id_number", _("full ID number")
        PHONE = "phone", _("full phone number")

    viewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("what was seen"), max_length=12, choices=Kind.choices, default=Kind.ID_NUMBER)
    purpose = models.CharField(max_length=120, blank=True)
    viewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("personal data view")
        verbose_name_plural = _("personal data views")

    def __str__(self) -> str:
        return f"{self.viewer} → {self.resident} @ {self.viewed_at:%Y-%m-%d %H:%M}"


class CorrectionRequest(models.Model):
    """A person asks for something held about them to be corrected (PIPL art. 46, docs/privacy.md).

    Station staff of the person's area accept it (the change is applied through the people services in the
    same transaction) or reject it with a reason; the person sees the answer on their "my data" page.

    Updates: ``status``, ``decided_by``, ``decided_at``, ``decision_note`` once, by the services; the texts are
    cleared when the person is pseudonymised. Deletion: never. Guarantees: a request is decided exactly when
    it has a decision time (CHECK); a rejected one has a reason (CHECK) until the person is pseudonymised.
    """

    class Field(models.TextChoices):
        NAME = "name", _("Name")
        PHONE = "phone", _("Phone")
        ADDRESS = "address", _("Address")
        LANGUAGES = "languages", _("Languages")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the station")
        ACCEPTED = "accepted", _("Corrected")
        REJECTED = "rejected", _("Not corrected")

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="correction_requests")
    field = models.CharField(_("what to correct"), max_length=12, choices=Field.choices)
    new_value = models.CharField(_("correct value"), max_length=200, blank=True)
    reason = models.CharField(_("why"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    asked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("answer"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", decided_at__isnull=True)
                | (~models.Q(status="open") & models.Q(decided_at__isnull=False)),
                name="correction_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(decision_note=""),
                name="correction_rejected_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="correction_status_idx")]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.field} ({self.status})"


class Departure(models.Model):
    """A person left the time bank (注销): their login is disabled and, now or after the retention period
    (policy ``privacy.retention_years_after_leaving``), their personal data is pseudonymised.

    Their ledger rows stay as they are (the ledger refers to accounts, not names); hours left on their
    accounts were given to the public pool when they left (``hours_minutes``, transfer ``hours_key``).

    Updates: ``pseudonymised_at`` once. Deletion: never. Guarantees: one departure per person (unique).
    """

    class Reason(models.TextChoices):
        ASKED = "asked", _("The person asked to leave")
        MOVED = "moved", _("Moved away")
        DIED = "died", _("Died")
        INACTIVE = "inactive", _("No longer takes part")

    resident = models.OneToOneField(Resident, on_delete=models.PROTECT, related_name="departure")
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    left_on = models.DateField(_("left on"))
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    hours_minutes = models.BigIntegerField(_("minutes given to the public pool"), default=0)
    hours_key = models.CharField(max_length=80, blank=True)
    pseudonymised_at = models.DateTimeField(_("pseudonymised at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("departure")
        verbose_name_plural = _("departures")
        constraints = [
            models.CheckConstraint(condition=models.Q(hours_minutes__gte=0), name="departure_minutes_nonnegative")
        ]
        indexes = [models.Index(fields=["pseudonymised_at", "left_on"], name="departure_due_idx")]

    def __str__(self) -> str:
        return f"{self.resident_id} left {self.left_on}"
