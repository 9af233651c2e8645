"""Personal API tokens: how partner systems and scripts call /api/v1 as a user."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: What a token may do. ``read``: every GET; ``write``: people, needs, visits and certificates;
#: ``ledger``: transfers and donations (moving hours is granted separately, on purpose).
SCOPES = ("read", "write", "ledger")


class ApiToken(models.Model):
    """A personal API token of one user, with scopes. The secret is shown once and never stored.

    The token the caller sends is ``tb_<prefix>_<secret>``; the row keeps the prefix (to find the row) and
    the SHA-256 of the whole token (to check it).

    Updates: ``last_used_at`` on use; ``revoked_at`` once; ``expires_at`` never (chosen when made).
    Deletion: never (revoke instead).
    Guarantees: prefix unique; the hash is never the secret; a revoked or expired token never authenticates
    again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    #: Chosen when the token is made (or never); from this moment on the token is refused.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class RateCounter(models.Model):
    """Requests of one key (an account or an address) in one fixed window of the API rate limit
    (:mod:`timebank.api.throttle`), when the limits count in the database rather than in Redis.

    Updates: ``hits`` + 1 per request, atomically (``INSERT … ON CONFLICT DO UPDATE … RETURNING``).
    Deletion: rows of windows that have ended, whenever a key opens a new window.
    Guarantees: one row per key and window, so every web worker counts into the same number.
    """

    key = models.CharField(max_length=100)
    slot = models.BigIntegerField()  # the window's number: its start (epoch seconds) // its length
    hits = models.IntegerField(default=0)
    ends_at = models.BigIntegerField(db_index=True)  # epoch seconds

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "slot"], name="api_ratecounter_key_slot")]

    def __str__(self) -> str:
        return f"{self.key} @{self.slot}: {self.hits}"


class BenchmarkWrite(models.Model):
    """A row written by the benchmark's baseline endpoint (``POST /api/v1/bench/write``, off unless
    ``API_BENCH_ENDPOINTS`` is set): the least a Django write can do, to compare the real writes with.

    Updates: never. Deletion: free (nothing refers to it; nothing reads it). Guarantees: none needed.
    """

    caller = models.BigIntegerField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "benchmark write"
        verbose_name_plural = "benchmark writes"

    def __str__(self) -> str:
        return f"{self.caller} {self.at:%Y-%m-%d %H:%M:%S}"
