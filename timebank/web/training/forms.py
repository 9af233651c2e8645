"""Forms of the training pages. They check the shape of what was typed; the rules (seats, dates, scope,
scores, targets) are the training services', whose refusals are shown next to the field they concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from timebank.places.models import Region, Site
from timebank.training.models import Course, Track
from timebank.web.forms_support import IdempotentForm

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SessionForm(IdempotentForm):
    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.none())
    site = forms.ModelChoiceField(label=_("Where"), queryset=Site.objects.none())
    trainer = forms.CharField(label=_("Trainer"), max_length=64)
    capacity = forms.IntegerField(label=_("Seats"), help_text=_("How many people can take part"))
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DATETIME_INPUT, input_formats=["%Y-%m-%dT%H:%M"])
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DATETIME_INPUT, input_formats=["%Y-%m-%dT%H:%M"])

    def __init__(self, *args: Any, courses: QuerySet[Course], sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses  # type: ignore[attr-defined]
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]


class AddPersonForm(IdempotentForm):
    who = forms.CharField(
        label=_("Phone or ID number of the person"), max_length=40, help_text=_("The person must live in your area")
    )
    wait = forms.BooleanField(label=_("If every seat is taken, put them on the waiting list"), required=False)


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(label=_("Seats"))


class CancelSessionForm(forms.Form):
    reason = forms.CharField(label=_("Why is it cancelled? (sent to everyone enrolled)"), max_length=200)


class CourseForm(forms.Form):
    """A new course. Hours are typed (half hours allowed) and stored as minutes; the rules are course_check's."""

    track = forms.ChoiceField(label=_("Track"), choices=Track.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("What it teaches (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    teaching_hours = forms.DecimalField(
        label=_("Teaching time (hours)"), max_digits=5, decimal_places=1, help_text=_("For example 40 or 1.5")
    )
    validity_months = forms.IntegerField(
        label=_("Certificate valid for (months)"), help_text=_("From the day of the pass; 1 to 120")
    )
    pass_score = forms.IntegerField(label=_("Pass mark"), initial=60, help_text=_("Out of 100"))

    def teaching_minutes(self) -> int:
        return int(self.cleaned_data["teaching_hours"] * 60)


class TargetForm(forms.Form):
    year = forms.IntegerField(label=_("Year"))
    track = forms.ChoiceField(label=_("Track"), choices=Track.choices)
    region = forms.ChoiceField(label=_("Town or street"))
    count = forms.IntegerField(label=_("People to train"))

    CITY = "city"

    def __init__(self, *args: Any, towns: list[Region], whole_city: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(self.CITY, _("The whole city"))] if whole_city else []
        self.fields["region"].choices = choices + [(str(t.pk), t.name) for t in towns]  # type: ignore[attr-defined]
        self.towns = {str(t.pk): t for t in towns}

    def chosen_region(self) -> Region | None:
        value = self.cleaned_data["region"]
        return None if value == self.CITY else self.towns[value]
