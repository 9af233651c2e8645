"""Writes of the API app: creating and revoking personal API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from timebank.common.errors import InvalidInput, NotAllowed
from timebank.people.models import User

from .errors import BadScopes
from .models import SCOPES, ApiToken


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the whole bearer token; shown once, not stored


def token_create(*, user: User, name: str, scopes: Iterable[str]) -> IssuedToken:
    """Make a personal API token for ``user``. The plain token is returned here and never again."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput(field="name")
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
        raise BadScopes(field="scopes", scope="")
    prefix = secrets.token_hex(6)
    secret = f"tb_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user, name=name, prefix=prefix, token_hash=token_digest(secret), scopes=wanted
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
