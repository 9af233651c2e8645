"""Who is calling: a personal API token (Bearer) with scopes and a rate limit, or the pages' session.

Every operation names the scope it needs (``read``, ``write`` or ``ledger``); :func:`auth_for` gives the
pair of authenticators for it. A session (the signed-in pages, with Django's CSRF check on unsafe
methods) may do whatever the pages let that person do, so it carries every scope.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from timebank.people.models import User

from .errors import MissingScope, RateLimited, TokenRevoked
from .models import ApiToken
from .selectors import token_find
from .services import token_touch


def rate_check(token: ApiToken) -> None:
    """A fixed-window counter per token in Django's cache; raises :class:`RateLimited` over the limit."""
    window = max(int(settings.API_RATE_WINDOW_SECONDS), 1)
    limit = int(settings.API_RATE_LIMIT)
    now = time.time()
    slot = int(now // window)
    key = f"api-rate:{token.prefix}:{slot}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        raise RateLimited(seconds=max(int((slot + 1) * window - now), 1))


class TokenAuth(HttpBearer):
    """``Authorization: Bearer tb_…``: the token's hash matches, it is not revoked, it has the scope."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        row = token_find(token)
        if row is None:
            return None  # not ours: the request is unauthenticated (401), or the session decides
        if row.revoked_at is not None or not row.user.is_active:
            raise TokenRevoked()
        rate_check(row)
        if not row.has_scope(self.scope):
            raise MissingScope(scope=self.scope)
        token_touch(row)
        request.api_token = row  # type: ignore[attr-defined]
        return row.user


class PagesSession(SessionAuth):
    """The signed-in pages' session (cookie), with Django's CSRF check on unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and user.is_active:
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
