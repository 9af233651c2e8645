"""Reads of the API app: finding the token a caller sent."""

from __future__ import annotations

import hmac
import re

from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.lookups import Exact, StartsWith

from timebank.people.models import Relationship, StaffRole, User

from .models import ApiToken
from .services import token_digest

_SHAPE = re.compile(r"^tb_([0-9a-f]{12})_[A-Za-z0-9_\-]{20,64}$")


def token_find(secret: str) -> ApiToken | None:
    """The token row for a bearer token, revoked or not; None for anything that is not one of ours."""
    match = _SHAPE.match(secret or "")
    if match is None:
        return None
    try:  # one narrow statement per request: the token's columns and the few of its user the API reads
        row = ApiToken.objects.select_related("user").only(*_TOKEN_COLUMNS).get(prefix=match.group(1))
    except ApiToken.DoesNotExist:
        return None
    if not hmac.compare_digest(row.token_hash, token_digest(secret)):
        return None
    return row


#: What authentication and the operations read of a token and its user (the password hash, names, e-mail and
#: login times are not fetched: the API never reads them; reading one would cost one more query, not fail).
_TOKEN_COLUMNS = (
    "id",
    "user_id",
    "prefix",
    "token_hash",
    "scopes",
    "last_used_at",
    "revoked_at",
    "expires_at",
    "user__id",
    "user__username",
    "user__is_active",
    "user__is_superuser",
    "user__resident_id",
    "user__elder_mode",
)


def tokens_of(user: User) -> list[ApiToken]:
    """A user's tokens, live ones first, newest first (revoked ones stay listed: they were used once)."""
    rows = ApiToken.objects.filter(user=user)
    return sorted(rows, key=lambda t: (t.revoked_at is not None, -t.created_at.timestamp()))


def visible_residents_q(user: User) -> Q:
    """The rule of :func:`timebank.people.selectors.residents_visible_to` as one SQL condition on residents,
    with no query of its own (that function reads the caller's staff roles first). Staff see the residents
    whose home lies in one of their roles' areas (partner admins: volunteers only); a resident with a login
    and no staff role sees themself and the people they are linked to; superusers see everyone.
    A test compares the two for every kind of caller."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    roles = StaffRole.objects.filter(user_id=user.pk, active=True)
    in_area = roles.filter(
        StartsWith(OuterRef("home_region__path"), F("region__path")),
        ~Q(role=StaffRole.Role.PARTNER_ADMIN) | Q(Exact(OuterRef("is_volunteer"), Value(True))),
    )
    q = Q(Exists(in_area))
    if user.resident_id is not None:
        linked = Relationship.objects.filter(
            resident_id=user.resident_id, relative_id=OuterRef("pk"), ended_at__isnull=True
        )
        q |= ~Q(Exists(roles)) & (Q(pk=user.resident_id) | Q(Exists(linked)))
    return q
