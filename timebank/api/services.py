"""Writes of the API app: creating and revoking personal API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from timebank.common.errors import InvalidInput, NotAllowed
from timebank.people.models import User

from .errors import BadExpiry, BadScopes, NoScopes
from .models import SCOPES, ApiToken


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the whole bearer token; shown once, not stored


#: The longest life a token may be given (it may also never expire).
MAX_EXPIRY_DAYS = 730


def token_create(*, user: User, name: str, scopes: Iterable[str], expires_in_days: int | None = None) -> IssuedToken:
    """Make a personal API token for ``user``. The plain token is returned here and never again.

    ``expires_in_days``: None for a token that lives until revoked, else 1 … ``MAX_EXPIRY_DAYS``: the token
    stops working at the start (local midnight) of the day that many days from today, its expiry day."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput(field="name")
    expires_at = None
    if expires_in_days is not None:
        if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int):
            raise BadExpiry(field="expires_in_days", days=MAX_EXPIRY_DAYS)
        if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
            raise BadExpiry(field="expires_in_days", days=MAX_EXPIRY_DAYS)
        expiry_day = timezone.localdate() + dt.timedelta(days=expires_in_days)
        expires_at = timezone.make_aware(dt.datetime.combine(expiry_day, dt.time.min))
    if not user.is_active:
        raise NotAllowed()
    wanted: list[str] = []
    for scope in scopes:
        scope = scope.strip()
        if scope not in SCOPES:
            raise BadScopes(field="scopes", scope=scope)
        if scope not in wanted:
            wanted.append(scope)
    if not wanted:
        raise NoScopes(field="scopes")
    prefix = secrets.token_hex(6)
    secret = f"tb_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user, name=name, prefix=prefix, token_hash=token_digest(secret), scopes=wanted, expires_at=expires_at
        )
    return IssuedToken(row, secret)


def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token (its owner or a superuser). Revoking twice keeps the first moment."""
    if actor.pk != token.user_id and not actor.is_superuser:
        raise NotAllowed()
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def token_touch(token: ApiToken) -> None:
    """Record use, at most once a minute per token (not a write per request)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
