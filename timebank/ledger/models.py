"""The time ledger: accounts and immutable transfers of integer minutes (TigerBeetle's model).

Design
------
* A transfer moves ``amount`` minutes from one debit account to one credit account. Every hour that exists
  was issued by the government issuance account (its balance is minus the hours outstanding), so the sum
  over all accounts is always zero.
* Transfers are never updated or deleted: database triggers refuse it (``sql/*.sql``). A mistake is fixed
  by a reversing transfer that points at the original.
* Two-phase: a ``pending`` transfer reserves minutes; one later ``post`` (full or partial) or ``void``
  resolves it. ``pending`` is unique, so the database itself allows one resolution only.
* Cached balances: the insert trigger adds each transfer to the four balance columns of its two accounts
  in the same transaction, and CHECK constraints refuse an overdrawn personal account. The services lock
  the accounts (``SELECT … FOR UPDATE`` in primary-key order) before inserting, so the trigger's updates
  never wait on each other in a different order.
* Hot accounts: the issuance and guarantee accounts take part in most service credits but need no
  overdraft check (the government may issue without limit; the guarantee account only receives).
  They are ``derived`` accounts: never locked, never updated; their balance is computed from the
  transfers when read. So two service credits to two different volunteers share no row lock at all,
  and the city's postings do not queue on one row. The public pool must never be overdrawn, so it keeps
  a cached, locked balance; only transfers that touch the pool wait on each other (see docs/ledger.md).
* Tamper evidence: every transfer carries a mark (an HMAC of its fields, ``marks.py``); ``ledger_seal``
  hashes transfers in id order into a chain of :class:`Seal` rows; ``ledger_verify`` recomputes balances,
  marks and seals and names any edited, removed or inserted row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from timebank.people.models import Resident
from timebank.places.models import Region

from .marks import MarkField


class Account(models.Model):
    """An account holding minutes.

    Updates: the four balance columns only by the transfer insert trigger; ``status`` by the services.
    Deletion: never (PROTECT from transfers); accounts are frozen or closed instead.
    Guarantees: balances are non-negative counters; an account with ``no_overdraw`` never has
    debits (posted + pending) above its posted credits (CHECK); one account per resident and kind.
    """

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("Personal")
        GROUP_EARNED = "group", _("Personal, earned in groups (donation only)")
        TEAM = "team", _("Team")
        POOL = "pool", _("Public time pool")
        ISSUANCE = "issuance", _("Government issuance")
        GUARANTEE = "guarantee", _("Guarantee purchases")
        CLEARING = "clearing", _("Clearing with a partner time bank")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        FROZEN = "frozen", _("Frozen")
        CLOSED = "closed", _("Closed")

    code = models.CharField(max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=96)
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("resident")
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    cached = models.BooleanField(default=True, help_text="balance kept on the row (False: derived from transfers)")
    no_overdraw = models.BooleanField(default=True)
    debits_posted = models.BigIntegerField(default=0)
    credits_posted = models.BigIntegerField(default=0)
    debits_pending = models.BigIntegerField(default=0)
    credits_pending = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(debits_posted__gte=0, credits_posted__gte=0, debits_pending__gte=0, credits_pending__gte=0),
                name="account_counters_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(no_overdraw=False) | Q(credits_posted__gte=F("debits_posted") + F("debits_pending")),
                name="account_no_overdraw",
            ),
            models.CheckConstraint(
                condition=Q(cached=True) | Q(no_overdraw=False), name="account_derived_may_overdraw"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["personal", "group"]) | Q(resident__isnull=False, no_overdraw=True),
                name="account_personal_has_owner",
            ),
            models.UniqueConstraint(
                fields=["resident", "kind"], condition=Q(resident__isnull=False), name="account_one_per_resident_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def posted_balance(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def available_balance(self) -> int:
        return self.credits_posted - self.debits_posted - self.debits_pending


class Batch(models.Model):
    """A set of transfers posted together, all or nothing (group events, imports).

    Updates: never. Deletion: never. Guarantees: ``key`` unique, so a batch is posted once.
    """

    key = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=200, blank=True)
    count = models.PositiveIntegerField()
    total = models.BigIntegerField()
    fingerprint = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")

    def __str__(self) -> str:
        return self.key


class Transfer(models.Model):
    """One movement of minutes.

    Updates: never (a trigger refuses UPDATE). Deletion: never (a trigger refuses DELETE).
    Guarantees: ``key`` unique (idempotency); amount > 0; debit ≠ credit; a post or void names exactly one
    pending transfer, which it resolves at most once (unique ``pending``), on the same accounts, for no
    more than was reserved (trigger); a transfer is reversed at most once (unique ``reverses``); every row
    carries ``mark``, an HMAC of its fields with a key only the application holds (``marks.py``), so a row
    written or changed around the application is named by ``ledger_verify``.
    """

    class Kind(models.TextChoices):
        SERVICE_CREDIT = "service_credit", _("Service credit")
        REDEMPTION = "redemption", _("Redemption")
        FAMILY_TRANSFER = "family_transfer", _("Transfer to family")
        DONATION = "donation", _("Donation")
        POOL_GRANT = "pool_grant", _("Grant from the public pool")
        CAP_OVERFLOW = "cap_overflow", _("Above the cap, to the public pool")
        REVERSAL = "reversal", _("Correction (reversal)")
        ADJUSTMENT = "adjustment", _("Adjustment")
        GUARANTEE = "guarantee", _("Service bought by the government guarantee")
        GROUP_CREDIT = "group_credit", _("Group service credit")
        EXPIRY = "expiry", _("Expired hours")

    class Phase(models.TextChoices):
        POSTED = "posted", _("Posted")
        PENDING = "pending", _("Held")
        POST = "post", _("Hold released to the receiver")
        VOID = "void", _("Hold cancelled")

    # System keys (``visit-<id>-credit``, ``pool-grant:<id>``, …) are stored as they are; a client's key is
    # stored as ``c:<user id>:<key>`` (see ledger.services.client_key), so no client can take a system key
    # or another client's key.
    key = models.CharField(max_length=100, unique=True)
    request_hash = models.CharField(max_length=64, help_text="what was asked for under this key")
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="debits")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credits")
    amount = models.BigIntegerField(_("minutes"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    phase = models.CharField(_("phase"), max_length=8, choices=Phase.choices, default=Phase.POSTED)
    pending = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="resolution")
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal")
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="transfers")
    memo = models.CharField(_("what"), max_length=200, blank=True)
    beneficiary = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("served elder")
    )
    place = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ref = models.CharField(max_length=64, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # HMAC of all the fields above (see marks.py), set on insert; keep it the last field
    mark = MarkField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(debit_account=F("credit_account")), name="transfer_distinct_accounts"),
            models.CheckConstraint(
                condition=(Q(phase__in=["post", "void"]) & Q(pending__isnull=False))
                | (Q(phase__in=["posted", "pending"]) & Q(pending__isnull=True)),
                name="transfer_resolution_names_pending",
            ),
            models.CheckConstraint(condition=~Q(mark=""), name="transfer_marked"),
        ]
        indexes = [
            models.Index(fields=["debit_account", "id"], name="transfer_debit_idx"),
            models.Index(fields=["credit_account", "id"], name="transfer_credit_idx"),
            # open holds of an account are found without walking its whole history (derived balances)
            models.Index(fields=["debit_account"], condition=Q(phase="pending"), name="transfer_pending_debit_idx"),
            models.Index(fields=["credit_account"], condition=Q(phase="pending"), name="transfer_pending_credit_idx"),
        ]

    #: Not stored: set by the services on the transfer they return, True when the call replayed an earlier one.
    replayed: bool = False

    def __str__(self) -> str:
        return f"#{self.pk} {self.debit_account_id}→{self.credit_account_id} {self.amount}"


class Seal(models.Model):
    """A link of the hash chain over transfers ``first_id``..``last_id``.

    ``entries`` lists ``[id, row_hash]`` for every transfer in the range, so verification can name the
    row that was edited, removed or inserted; ``hash`` = SHA-256(previous hash + entries), and for seals
    with ``derived`` SHA-256(previous hash + entries + derived).

    ``derived`` holds, for every derived account (issuance, guarantee: balances not cached on the row), its
    posted debits and credits over all transfers up to ``last_id``: ``{"<account id>": [debits, credits]}``.
    A derived balance is then this snapshot plus the transfers after it, so reading it does not grow with
    the ledger's history. Seals made before snapshots existed have none (null).
    Updates: never (trigger). Deletion: never (trigger). Guarantees: ranges are contiguous and ascending;
    ``ledger_verify`` recomputes every snapshot from the transfers.
    """

    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField(unique=True)
    count = models.PositiveIntegerField()
    entries = models.JSONField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    derived = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("seal")
        verbose_name_plural = _("seals")
        constraints = [models.CheckConstraint(condition=Q(last_id__gte=F("first_id")), name="seal_range_valid")]

    def __str__(self) -> str:
        return f"seal {self.first_id}..{self.last_id} {self.hash[:12]}"


class PoolGrant(models.Model):
    """A grant of hours from the public pool to a priority elder, approved by a second staff member.

    Updates: ``status``, ``approved_by``, ``decided_at``, ``transfer`` once, by the services.
    Deletion: never. Guarantees: the approver is not the requester (CHECK).
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for approval")
        APPROVED = "approved", _("Approved and paid")
        REJECTED = "rejected", _("Rejected")

    elder = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="pool_grants")
    minutes = models.PositiveIntegerField(_("minutes"))
    reason = models.TextField(_("reason"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transfer = models.OneToOneField(Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("pool grant")
        verbose_name_plural = _("pool grants")
        constraints = [
            models.CheckConstraint(condition=~Q(approved_by=F("requested_by")), name="poolgrant_four_eyes"),
            models.CheckConstraint(condition=Q(minutes__gt=0), name="poolgrant_minutes_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.elder} {self.minutes}"


class AccountStatusChange(models.Model):
    """Audit of a freeze, reopening or closing of an account: who, when, why.

    Updates: never. Deletion: never. Guarantees: written in the transaction that changed the status.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=8, choices=Account.Status.choices)
    to_status = models.CharField(max_length=8, choices=Account.Status.choices)
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("account status change")
        verbose_name_plural = _("account status changes")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.account} {self.from_status}→{self.to_status}"
