"""API rate limits that hold however many web workers serve the API (docs/api.md, "Rate limits").

Two limits, each a fixed window counted in a store every worker shares:

* per **account** (``API_RATE_LIMIT`` requests per ``API_RATE_WINDOW_SECONDS``): every token of a user and
  their signed-in session count together, so making more tokens does not buy more requests;
* per **address** (``API_RATE_LIMIT_PER_ADDRESS``): every request under /api/ from one client address
  (an IPv6 address counts by its /64), signed in or not, so token guessing and many accounts behind one
  address are slowed too.

The store is Redis when the ``throttle`` cache is configured (``THROTTLE_REDIS_URL``; its INCR is atomic),
else the database (:class:`~timebank.api.models.RateCounter`, one atomic ``INSERT … ON CONFLICT DO
UPDATE … RETURNING`` per count). A per-process memory cache is never used: with three workers it let
three times the limit through. If Redis cannot be reached the count falls back to the database.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest

from timebank.common.lockout import client_ip

from .errors import RateLimited

log = logging.getLogger("timebank.api")

THROTTLE_CACHE = "throttle"


def address_key(ip: str | None) -> str:
    """The counter key of an address: IPv4 as is, IPv6 by its /64 (one subscriber's block)."""
    try:
        parsed = ipaddress.ip_address(ip or "")
    except ValueError:
        return "addr:unknown"
    if parsed.version == 6:
        return f"addr:{ipaddress.ip_network(f'{parsed}/64', strict=False)}"
    return f"addr:{parsed}"


@dataclass(frozen=True)
class Count:
    hits: int  # requests in this window, this one included
    retry_after: int  # seconds until the window ends


def _count_in_database(key: str, slot: int, ends_at: int) -> int:
    from .models import RateCounter

    q = connection.ops.quote_name
    table, k, s, h, e = (q(n) for n in (RateCounter._meta.db_table, "key", "slot", "hits", "ends_at"))
    with connection.cursor() as cursor:  # names are quoted identifiers of our own model, values are parameters
        cursor.execute(
            f"INSERT INTO {table} ({k}, {s}, {h}, {e}) VALUES (%s, %s, 1, %s) "  # noqa: S608
            f"ON CONFLICT ({k}, {s}) DO UPDATE SET {h} = {table}.{h} + 1 RETURNING {h}",
            [key, slot, ends_at],
        )
        row = cursor.fetchone()
        hits = int(row[0]) if row else 1
        if hits == 1:  # a key opened a new window: drop the windows that have ended (theirs and others')
            cursor.execute(f"DELETE FROM {table} WHERE {e} < %s", [int(time.time())])  # noqa: S608
    return hits


def _count_in_cache(key: str, slot: int, window: int) -> int:
    cache = caches[THROTTLE_CACHE]
    name = f"api-rate:{key}:{slot}"
    cache.add(name, 0, timeout=window + 5)
    try:
        return int(cache.incr(name))
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=window + 5)
        return 1


def count(key: str, *, window: int, now: float | None = None) -> Count:
    """Count one request for ``key`` in the current fixed window of ``window`` seconds."""
    window = max(int(window), 1)
    now = time.time() if now is None else now
    slot = int(now // window)
    ends_at = (slot + 1) * window
    hits: int | None = None
    if THROTTLE_CACHE in settings.CACHES:
        try:
            hits = _count_in_cache(key, slot, window)
        except Exception:  # Redis down: count in the database rather than not at all
            log.exception("the throttle cache failed; counting in the database")
    if hits is None:
        hits = _count_in_database(key, slot, ends_at)
    return Count(hits=hits, retry_after=max(int(ends_at - now + 0.999), 1))


def _limit(key: str, limit: int) -> None:
    counted = count(key, window=int(settings.API_RATE_WINDOW_SECONDS))
    if counted.hits > limit:
        raise RateLimited(seconds=counted.retry_after)


def account_check(user_id: int) -> None:
    """Raise :class:`RateLimited` when this account (all its tokens and its session) is over the limit."""
    _limit(f"user:{user_id}", int(settings.API_RATE_LIMIT))


def address_check(request: HttpRequest) -> None:
    """Raise :class:`RateLimited` when the caller's address is over the per-address limit."""
    _limit(address_key(client_ip(request)), int(settings.API_RATE_LIMIT_PER_ADDRESS))
