"""Reads of shared data: the policy value in force on a day."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .memo import remembered
from .models import PolicyValue


class PolicyMissing(DomainError):
    code = "policy_missing"
    status = 500
    message = _("No value of the policy {key} is in force on {day}: the system is misconfigured.")


def policy_value(key: str, *, on: dt.date | None = None) -> Any:
    """The value of policy ``key`` in force on ``on`` (today by default).

    Raises :class:`PolicyMissing` when no version is in force; the default versions are loaded by a
    migration, so this means a misconfigured database, not a user error.
    """
    day = on or timezone.localdate()
    in_force = remembered(("policies", day), lambda: _policies_on(day))
    if key not in in_force:
        raise PolicyMissing(key=key, day=day.isoformat())
    value = in_force[key]
    # JSON lists and objects are copied: a caller changing its copy must not change the request's memo.
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


def _policies_on(day: dt.date) -> dict[str, Any]:
    """Every policy's value in force on ``day``, in one query (the table holds a few dozen rows)."""
    in_force: dict[str, Any] = {}
    rows = PolicyValue.objects.filter(effective_from__lte=day).order_by("key", "effective_from")
    for key, value in rows.values_list("key", "value"):
        in_force[key] = value  # the latest version before or on ``day`` wins
    return in_force


def policy_history(key: str) -> list[PolicyValue]:
    return list(PolicyValue.objects.filter(key=key).order_by("effective_from"))
