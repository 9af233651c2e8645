"""Who is calling: a personal API token (Bearer) with scopes and an expiry, or the pages' session; both
counted in the account's rate limit (:mod:`timebank.api.throttle`).

Every operation names the scope it needs (``read``, ``write`` or ``ledger``); :func:`auth_for` gives the
pair of authenticators for it. A session (the signed-in pages, with Django's CSRF check on unsafe
methods) may do whatever the pages let that person do, so it carries every scope.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from timebank.people.models import User

from .errors import MissingScope, TokenExpired, TokenRevoked
from .selectors import token_find
from .services import token_touch
from .throttle import account_check


class TokenAuth(HttpBearer):
    """``Authorization: Bearer tb_…``: the token's hash matches, it is neither revoked nor expired, its
    account is within the rate limit, it has the scope."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        row = token_find(token)
        if row is None:
            return None  # not ours: the request is unauthenticated (401), or the session decides
        if row.revoked_at is not None or not row.user.is_active:
            raise TokenRevoked()
        if row.is_expired():
            raise TokenExpired(day=timezone.localdate(row.expires_at).isoformat() if row.expires_at else "-")
        account_check(row.user_id)
        if not row.has_scope(self.scope):
            raise MissingScope(scope=self.scope)
        token_touch(row)
        request.api_token = row  # type: ignore[attr-defined]
        return row.user


class PagesSession(SessionAuth):
    """The signed-in pages' session (cookie), with Django's CSRF check on unsafe methods; counted in the
    same per-account rate limit as the account's tokens."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and user.is_active:
            account_check(user.pk)
            return user
        return None


_session = PagesSession()
_by_scope = {scope: [TokenAuth(scope), _session] for scope in ("read", "write", "ledger")}


def auth_for(scope: str) -> list[Any]:
    return _by_scope[scope]


def caller(request: HttpRequest) -> User:
    """The authenticated user of an operation (set by the authenticators above)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user
