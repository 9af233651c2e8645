"""Who is calling from where, and login lock-out by phone number and by address (django-axes).

django-axes counts failed logins in the database (every web worker sees the same counts). With
``AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]`` it counts failures per phone number and per
address separately; its own handler compares the larger of the two with one limit. A community station
puts many people behind one address, so the address gets its own, higher limit:
``AXES_FAILURE_LIMIT`` failures lock a phone number, ``AXES_ADDRESS_FAILURE_LIMIT`` failures lock an
address (one password tried against many phone numbers), each for ``AXES_COOLOFF_TIME``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: ``REMOTE_ADDR``, or, behind ``TRUSTED_PROXY_COUNT`` reverse proxies, the
    address the outermost trusted proxy saw (counted from the right of ``X-Forwarded-For``, so a client
    cannot choose its own address by sending the header); None when there is none. Used by the API rate
    limits and by django-axes."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
        if len(hops) >= proxies:
            remote = hops[-proxies]
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return None


class LockoutHandler(AxesDatabaseHandler):
    """django-axes's database handler with a limit per lock-out parameter: a phone number is locked after
    ``AXES_FAILURE_LIMIT`` failures, an address after ``AXES_ADDRESS_FAILURE_LIMIT``.

    axes compares ``get_failures()`` with ``AXES_FAILURE_LIMIT``; this handler reports the phone number's
    failures, or the limit itself once the address has reached its own limit.
    """

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        by_phone, by_address = 0, 0
        params = list(settings.AXES_LOCKOUT_PARAMETERS)
        for param, attempts in zip(params, self.get_user_attempts(request, credentials), strict=False):
            failures = int(attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0)
            if param == "ip_address":
                by_address = failures
            else:
                by_phone = max(by_phone, failures)
        phone_limit = int(settings.AXES_FAILURE_LIMIT)
        if by_address >= int(settings.AXES_ADDRESS_FAILURE_LIMIT):
            return max(by_phone, phone_limit)
        return by_phone
