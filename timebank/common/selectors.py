"""Reads of shared data: the policy value in force on a day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from .errors import DomainError
from .models import PolicyValue


class PolicyMissing(DomainError):
    code = "policy_missing"
    status = 500


def policy_value(key: str, *, on: dt.date | None = None) -> Any:
    """The value of policy ``key`` in force on ``on`` (today by default).

    Raises :class:`PolicyMissing` when no version is in force; the default versions are loaded by a
    migration, so this means a misconfigured database, not a user error.
    """
    day = on or timezone.localdate()
    row = (
        PolicyValue.objects.filter(key=key, effective_from__lte=day)
        .order_by("-effective_from")
        .values_list("value", flat=True)
        .first()
    )
    if row is None:
        raise PolicyMissing(f"no value of policy {key} in force on {day}")
    return row


def policy_history(key: str) -> list[PolicyValue]:
    return list(PolicyValue.objects.filter(key=key).order_by("effective_from"))
