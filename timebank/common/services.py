"""Writes of shared data: a new version of a policy value."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import Conflict, InvalidInput, NotAllowed
from .memo import forget
from .models import PolicyValue
from .policies import spec_for

if TYPE_CHECKING:
    from timebank.people.models import User


class UnknownPolicy(InvalidInput):
    code = "policy_unknown"
    message = _("There is no policy called {key}.")


class BadPolicyValue(InvalidInput):
    code = "policy_bad_value"
    message = _("The value {value} is not allowed for “{label}”.")


class PolicyBackdated(InvalidInput):
    code = "policy_backdated"
    message = _("A policy change cannot take effect before today; past records keep the rules of their day.")


class PolicyVersionExists(Conflict):
    code = "policy_version_exists"
    message = _("This policy already has a version starting on {day}.")


def policy_set(
    *, actor: User | None, key: str, value: Any, effective_from: dt.date, note: str = "", allow_past: bool = False
) -> PolicyValue:
    """Add a version of a policy. Only city supervisors (or the system, ``actor=None``) may do it."""
    if actor is not None:
        from timebank.people.selectors import is_city_supervisor

        if not is_city_supervisor(actor):
            raise NotAllowed()
    spec = spec_for(key)
    if spec is None:
        raise UnknownPolicy(field="key", key=key)
    if not spec.check(value):
        raise BadPolicyValue(field="value", value=value, label=spec.label)
    if not allow_past and effective_from < timezone.localdate():
        raise PolicyBackdated(field="effective_from")
    try:
        with transaction.atomic():
            created = PolicyValue.objects.create(
                key=key, value=value, effective_from=effective_from, note=note, created_by=actor
            )
    except IntegrityError as exc:
        raise PolicyVersionExists(field="effective_from", day=effective_from) from exc
    forget()
    return created
