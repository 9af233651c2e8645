"""Personal API tokens: how partner systems and scripts call /api/v1 as a user."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

#: What a token may do. ``read``: every GET; ``write``: people, needs, visits and certificates;
#: ``ledger``: transfers and donations (moving hours is granted separately, on purpose).
SCOPES = ("read", "write", "ledger")


class ApiToken(models.Model):
    """A personal API token of one user, with scopes. The secret is shown once and never stored.

    The token the caller sends is ``tb_<prefix>_<secret>``; the row keeps the prefix (to find the row) and
    the SHA-256 of the whole token (to check it).

    Updates: ``last_used_at`` on use; ``revoked_at`` once. Deletion: never (revoke instead).
    Guarantees: prefix unique; the hash is never the secret; a revoked token never authenticates again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


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
