"""Forms of the teams pages. They check what was typed; the rules are checked by the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from timebank.people.models import Resident, User
from timebank.teams.models import GroupEvent, Project, TeamMember
from timebank.teams.services import SheetRow


class PhoneForm(forms.Form):
    """Find a registered person by their phone number (leaders add members and sign people up this way)."""

    phone = forms.CharField(
        label=_("Their phone number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=TeamMember.Role.choices, initial=TeamMember.Role.MEMBER, required=False
    )

    def clean_phone(self) -> str:
        from timebank.teams.selectors import resident_by_phone

        found = resident_by_phone(self.cleaned_data["phone"])
        if found is None:
            raise forms.ValidationError(_("Nobody is registered with this phone number."), code="unknown_phone")
        self.resident: Resident = found
        return str(self.cleaned_data["phone"])


class ProjectForm(forms.Form):
    title = forms.CharField(label=_("Name of the project"), max_length=96)
    description = forms.CharField(
        label=_("What the project does"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    places_wanted = forms.IntegerField(
        label=_("Volunteers wanted (0 = no limit)"), min_value=0, max_value=100_000, initial=0
    )


class ProjectStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Project.Status.choices)


class LogForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    people_reached = forms.IntegerField(label=_("People reached"), min_value=0, max_value=100_000, initial=0)


class EventForm(forms.Form):
    title = forms.CharField(label=_("Name of the event"), max_length=96)
    project = forms.ModelChoiceField(label=_("Project (optional)"), queryset=Project.objects.none(), required=False)
    place_text = forms.CharField(label=_("Where"), max_length=200, required=False)
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time"}))
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=10_000, initial=20)
    festival = forms.CharField(label=_("Festival (optional, e.g. 重阳节)"), max_length=32, required=False)
    guardian_name = forms.CharField(
        label=_("Accompanying guardian or teacher (needed for volunteers under 18)"), max_length=64, required=False
    )

    def __init__(self, *args: Any, projects: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if projects is not None:
            self.fields["project"].queryset = projects  # type: ignore[attr-defined]

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        day = self.cleaned_data["day"]
        start = timezone.make_aware(dt.datetime.combine(day, self.cleaned_data["start"]))
        end = timezone.make_aware(dt.datetime.combine(day, self.cleaned_data["end"]))
        return start, end


class SheetForm(forms.Form):
    """One row per sign-up: a tick box and arrival/leaving times (prefilled with the event's times)."""

    def __init__(self, *args: Any, event: GroupEvent, people: list[Resident], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        self.people = people
        start = timezone.localtime(event.starts_at)
        end = timezone.localtime(event.ends_at)
        for person in people:
            self.fields[f"present_{person.pk}"] = forms.BooleanField(required=False, initial=True)
            arrived_label = _("%(name)s arrived at") % {"name": person.name}
            self.fields[f"arrived_{person.pk}"] = forms.TimeField(
                required=False,
                initial=start.time().replace(second=0, microsecond=0),
                widget=forms.TimeInput(format="%H:%M", attrs={"type": "time", "aria-label": arrived_label}),
            )
            left_label = _("%(name)s left at") % {"name": person.name}
            self.fields[f"left_{person.pk}"] = forms.TimeField(
                required=False,
                initial=end.time().replace(second=0, microsecond=0),
                widget=forms.TimeInput(format="%H:%M", attrs={"type": "time", "aria-label": left_label}),
            )

    def rows(self) -> list[dict[str, Any]]:
        """For the template: each person with their three bound fields."""
        return [
            {
                "person": p,
                "present": self[f"present_{p.pk}"],
                "arrived": self[f"arrived_{p.pk}"],
                "left": self[f"left_{p.pk}"],
            }
            for p in self.people
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for person in self.people:
            if data.get(f"present_{person.pk}") and (
                data.get(f"arrived_{person.pk}") is None or data.get(f"left_{person.pk}") is None
            ):
                self.add_error(
                    f"arrived_{person.pk}",
                    forms.ValidationError(
                        _("%(name)s: give the time they came and the time they left.") % {"name": person.name},
                        code="missing_time",
                    ),
                )
        return data

    def hidden_values(self) -> list[tuple[str, str]]:
        """The ticked rows again, for the confirmation step's hidden inputs."""
        values = []
        for person in self.people:
            if self.cleaned_data.get(f"present_{person.pk}"):
                values += [
                    (f"present_{person.pk}", "on"),
                    (f"arrived_{person.pk}", self.cleaned_data[f"arrived_{person.pk}"].strftime("%H:%M")),
                    (f"left_{person.pk}", self.cleaned_data[f"left_{person.pk}"].strftime("%H:%M")),
                ]
        return values

    def sheet_rows(self) -> list[SheetRow]:
        day = timezone.localtime(self.event.starts_at).date()
        rows = []
        for person in self.people:
            if not self.cleaned_data.get(f"present_{person.pk}"):
                continue
            arrived = timezone.make_aware(dt.datetime.combine(day, self.cleaned_data[f"arrived_{person.pk}"]))
            left = timezone.make_aware(dt.datetime.combine(day, self.cleaned_data[f"left_{person.pk}"]))
            rows.append(SheetRow(resident=person, arrived_at=arrived, left_at=left))
        return rows


class ScoreForm(forms.Form):
    """Points 0..100 for each nomination and criterion; empty boxes are left as they were."""

    def __init__(
        self, *args: Any, nominations: list[Any], criteria: list[str], given: dict[tuple[int, str], int], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cells: list[tuple[Any, str, str]] = []
        for nomination in nominations:
            for index, criterion in enumerate(criteria):
                name = f"s_{nomination.pk}_{index}"
                self.fields[name] = forms.IntegerField(
                    required=False,
                    min_value=0,
                    max_value=100,
                    initial=given.get((nomination.pk, criterion)),
                    label=f"{nomination.project.title} · {criterion}",
                    widget=forms.NumberInput(
                        attrs={
                            "inputmode": "numeric",
                            "min": 0,
                            "max": 100,
                            "aria-label": f"{nomination.project.title} · {criterion}",
                        }
                    ),
                )
                self.cells.append((nomination, criterion, name))

    def table(self, nominations: list[Any]) -> list[dict[str, Any]]:
        return [
            {"nomination": n, "cells": [self[name] for nom, _c, name in self.cells if nom.pk == n.pk]}
            for n in nominations
        ]


def _judge_label(user: User) -> str:
    """The name, then the staff roles and areas (to tell two people of the same name apart)."""
    roles = "、".join(f"{r.get_role_display()} {r.region.name}" for r in user.staff_roles.all() if r.active)
    return f"{user} · {roles}" if roles else str(user)  # User.__str__: the name, never the phone


class CompetitionForm(forms.Form):
    """A new competition: title, year, criteria (one a line) and judges (staff accounts, ticked)."""

    title = forms.CharField(label=_("Name of the competition"), max_length=96)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    criteria = forms.CharField(
        label=_("Criteria (one a line)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example: 成效, 创新, 可持续"),
    )
    judges = forms.ModelMultipleChoiceField(
        label=_("Judges"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, judges: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["judges"].queryset = judges  # type: ignore[attr-defined]
        self.fields["judges"].label_from_instance = _judge_label  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)

    def clean_criteria(self) -> list[str]:
        return [line.strip() for line in str(self.cleaned_data["criteria"]).splitlines() if line.strip()]


class NominationForm(forms.Form):
    project = forms.ModelChoiceField(label=_("Project to nominate"), queryset=Project.objects.none())

    def __init__(self, *args: Any, projects: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]
        self.fields["project"].label_from_instance = lambda p: f"{p.title} · {p.team.name}"  # type: ignore[attr-defined]
