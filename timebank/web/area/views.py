"""The area overview: town administrators, city supervisors, partner-organisation administrators.

Figures are counted through the scoped selectors; "reports" are the read-only Django admin lists, shown to
those who may use the admin (operators and city supervisors, ``people.selectors.may_use_admin``).
City supervisors also change policies: a new value with an effective date, then a confirmation step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from timebank.common import services as common
from timebank.common.errors import DomainError
from timebank.common.models import PolicyValue
from timebank.common.policies import SPECS, PolicySpec
from timebank.common.selectors import PolicyMissing, policy_history, policy_value
from timebank.ledger.selectors import hours, outstanding_hours
from timebank.people.models import StaffRole, User
from timebank.people.selectors import active_roles, is_city_supervisor, may_use_admin
from timebank.web.access import area_required
from timebank.web.forms_support import add_domain_error

from .forms import PolicyForm
from .queries import area_figures


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@dataclass
class Report:
    label: str | Promise
    url: str


def _reports(user: User) -> list[Report]:
    if not may_use_admin(user):
        return []
    rows = [
        (_("Residents"), "admin:people_resident_changelist"),
        (_("Needs"), "admin:care_need_changelist"),
        (_("Visits"), "admin:care_visit_changelist"),
        (_("Complaints"), "admin:care_dispute_changelist"),
        (_("Ratings"), "admin:care_rating_changelist"),
        (_("Ledger transfers"), "admin:ledger_transfer_changelist"),
        (_("Public pool grants"), "admin:ledger_poolgrant_changelist"),
        (_("Looks at people's records and full ID numbers"), "admin:people_personaldataview_changelist"),
    ]
    return [Report(label, reverse(name)) for label, name in rows]


@area_required("area")
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    supervisor = is_city_supervisor(user)
    context = {
        "roles": active_roles(user),
        "figures": area_figures(user),
        "supervisor": supervisor,
        "outstanding": hours(outstanding_hours()) if supervisor else None,
        "reports": _reports(user),
        "partner_only": bool(active_roles(user))
        and all(r.role == StaffRole.Role.PARTNER_ADMIN for r in active_roles(user)),
        "nav": "index",
    }
    return render(request, "web/area/index.html", context)


# --------------------------------------------------------------------------------------------- policies


#: Words for the values some policies take (rounding modes, the weights of the matching score).
VALUE_WORDS = {
    "nearest": gettext_lazy("to the nearest step"),
    "down": gettext_lazy("always down"),
    "up": gettext_lazy("always up"),
    "distance": gettext_lazy("distance"),
    "rating": gettext_lazy("rating"),
    "continuity": gettext_lazy("served this elder before"),
    "fairness": gettext_lazy("fewer recent hours"),
    "reliability": gettext_lazy("reliability"),
    "preference": gettext_lazy("likes this service"),
}


def _word(value: Any) -> str:
    from timebank.people.models import Relationship

    if isinstance(value, str) and value in Relationship.Kind.values:
        return str(Relationship.Kind(value).label)
    return str(VALUE_WORDS.get(value, value)) if isinstance(value, str) else str(value)


def show_value(spec: PolicySpec, value: Any) -> str:
    """A policy value as people read it: 72,000 minutes (1,200 h); yes/no; lists and words translated."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int):
        text = f"{value:,}"  # grouped with commas in both languages (as Chinese official figures are)
        unit = str(spec.unit)
        if spec.key.endswith("_minutes") and value >= 60:
            h = value // 60 if value % 60 == 0 else round(value / 60, 1)
            return f"{text} {unit} ({h:,} {_('h')})"
        return f"{text} {unit}".strip()
    separator = _(", ")
    if isinstance(value, list):
        return separator.join(_word(v) for v in value)
    if isinstance(value, dict):
        return separator.join(f"{_word(k)} {_word(v)}" for k, v in value.items())
    return _word(value)


def _supervisor(request: HttpRequest) -> User:
    user = _user(request)
    if not is_city_supervisor(user):
        raise PermissionDenied
    return user


def _value_on(key: str, day: Any = None) -> Any:
    try:
        return policy_value(key, on=day)
    except PolicyMissing:
        return None


@area_required("area")
def policies(request: HttpRequest) -> HttpResponse:
    _supervisor(request)
    rows = []
    for key, spec in SPECS.items():
        history: list[PolicyValue] = policy_history(key)
        current = _value_on(key)
        rows.append(
            {
                "key": key,
                "spec": spec,
                "current": show_value(spec, current) if current is not None else "—",
                "history": [(h, show_value(spec, h.value)) for h in history],
            }
        )
    changed = request.GET.get("changed", "")
    return render(
        request,
        "web/area/policies.html",
        {
            "rows": rows,
            "changed": SPECS[changed].label if changed in SPECS else "",
            "nav": "policies",
            "supervisor": True,
        },
    )


@area_required("area")
def policy_edit(request: HttpRequest, key: str) -> HttpResponse:
    """Step 1: the new value and day. Step 2 (``step=confirm``): the sentence to confirm, then ``policy_set``."""
    user = _supervisor(request)
    spec = SPECS.get(key)
    if spec is None:
        raise Http404
    current = _value_on(key)
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step in ("check", "confirm"):
        form = PolicyForm(request.POST, current=current)
        if form.is_valid():
            data = form.cleaned_data
            old = _value_on(key, data["effective_from"])
            if step == "confirm":
                try:
                    common.policy_set(
                        actor=user,
                        key=key,
                        value=data["value"],
                        effective_from=data["effective_from"],
                        note=data["note"],
                    )
                except DomainError as exc:
                    add_domain_error(form, exc)
                else:
                    return redirect(reverse("web:area:policies") + f"?changed={key}")
            else:
                context = {
                    "spec": spec,
                    "form": form,
                    "day": data["effective_from"],
                    "new": show_value(spec, data["value"]),
                    "old": show_value(spec, old) if old is not None else "—",
                    "same": old == data["value"],
                    "nav": "policies",
                    "supervisor": True,
                }
                return render(request, "web/area/policy_confirm.html", context)
    elif step == "edit":  # back from the confirmation: what was typed, to change it
        form = PolicyForm(initial=request.POST.dict(), current=current)
    else:
        initial = {"value": json.dumps(current, ensure_ascii=False) if isinstance(current, (list, dict)) else current}
        if isinstance(current, bool):
            initial["value"] = "yes" if current else "no"
        form = PolicyForm(initial=initial, current=current)
    context = {
        "spec": spec,
        "form": form,
        "current": show_value(spec, current) if current is not None else "—",
        "history": [(h, show_value(spec, h.value)) for h in policy_history(key)],
        "nav": "policies",
        "supervisor": True,
    }
    status = 400 if form.is_bound and form.errors else 200  # a refused entry is a 400, like every form
    return render(request, "web/area/policy_edit.html", context, status=status)
