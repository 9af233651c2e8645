"""Reads of the API app: finding the token a caller sent."""

from __future__ import annotations

import hmac
import re

from timebank.people.models import User

from .models import ApiToken
from .services import token_digest

_SHAPE = re.compile(r"^tb_([0-9a-f]{12})_[A-Za-z0-9_\-]{20,64}$")


def token_find(secret: str) -> ApiToken | None:
    """The token row for a bearer token, revoked or not; None for anything that is not one of ours."""
    match = _SHAPE.match(secret or "")
    if match is None:
        return None
    row = ApiToken.objects.select_related("user").filter(prefix=match.group(1)).first()
    if row is None or not hmac.compare_digest(row.token_hash, token_digest(secret)):
        return None
    return row


def tokens_of(user: User) -> list[ApiToken]:
    """A user's tokens, live ones first, newest first (revoked ones stay listed: they were used once)."""
    rows = ApiToken.objects.filter(user=user)
    return sorted(rows, key=lambda t: (t.revoked_at is not None, -t.created_at.timestamp()))
