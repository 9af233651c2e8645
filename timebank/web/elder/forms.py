"""Forms of the elder area. They check the shape of what was typed (plain words); the services check the rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from timebank.common.errors import DomainError
from timebank.people.models import Relationship
from timebank.web.forms_support import IdempotentForm, add_domain_error

REQUIRED = {"required": _("Please fill this in.")}

#: The parts of a day people choose from: (start hour, end hour), local time.
MORNING = (9, 12)
AFTERNOON = (14, 17)

#: Services most people ask for, shown first on the big buttons (the rest follow in catalogue order).
COMMON_ITEMS = ("chat", "grocery", "meal", "cleaning", "medical", "outing", "smart_device", "emergency")

#: Words people tick when they rate a visit: (stored value, label). Stored in Chinese as the demo data is.
RATING_TAGS = [
    ("耐心", _("Patient")),
    ("准时", _("On time")),
    ("细心", _("Careful")),
    ("热情", _("Warm and friendly")),
    ("会讲粤语", _("Speaks Cantonese")),
]

STAR_CHOICES = [
    (5, _("5 stars: very good")),
    (4, _("4 stars: good")),
    (3, _("3 stars: all right")),
    (2, _("2 stars: not good")),
    (1, _("1 star: bad")),
]


def put_domain_error(form: forms.Form, exc: DomainError, fields: dict[str, str], default: str | None = None) -> None:
    """Show a service's refusal next to the field of this form it concerns (``fields`` maps service names)."""
    name = fields.get(exc.field or "", exc.field)
    if name not in form.fields:
        name = default
    exc.field = name
    add_domain_error(form, exc)


class WhenForm(forms.Form):
    """Step 2 of asking for help: when, an optional note, and (if allowed) paying with stored hours."""

    when = forms.ChoiceField(
        label=_("When should the volunteer come?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a time."), "invalid_choice": _("Choose one of the times shown.")},
    )
    day = forms.DateField(
        label=_("Which day?"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Write the date like 2026-05-20.")},
    )
    part = forms.ChoiceField(
        label=_("Morning or afternoon?"),
        choices=[("am", _("Morning (9 to 12)")), ("pm", _("Afternoon (2 to 5)"))],
        initial="am",
        required=False,
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        label=_("Anything the volunteer should know? (you may leave this empty)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    own_hours = forms.BooleanField(label=_("Pay with stored hours"), required=False)

    def __init__(self, *args: Any, offer_own_hours: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        now = timezone.localtime()
        choices = []
        if now.hour < AFTERNOON[1] - 1:
            choices.append(("today_pm", _("Today afternoon (2 to 5)")))
        choices += [
            ("tomorrow_am", _("Tomorrow morning (9 to 12)")),
            ("tomorrow_pm", _("Tomorrow afternoon (2 to 5)")),
            ("other", _("Another day")),
        ]
        when = self.fields["when"]
        assert isinstance(when, forms.ChoiceField)
        when.choices = choices
        self.fields["day"].widget.attrs["min"] = (now.date() + dt.timedelta(days=1)).isoformat()
        if not offer_own_hours:
            del self.fields["own_hours"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("when") == "other":
            if not data.get("day") and "day" not in self.errors:
                self.add_error("day", _("Choose the day."))
            if not data.get("part"):
                data["part"] = "am"
        return data

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """The time window chosen, in local time."""
        data = self.cleaned_data
        today = timezone.localdate()
        when = data["when"]
        if when == "other":
            day, part = data["day"], data.get("part") or "am"
        else:
            day = today if when.startswith("today") else today + dt.timedelta(days=1)
            part = when.rsplit("_", 1)[1]
        start_h, end_h = MORNING if part == "am" else AFTERNOON
        tz = timezone.get_current_timezone()
        return (
            dt.datetime.combine(day, dt.time(start_h), tzinfo=tz),
            dt.datetime.combine(day, dt.time(end_h), tzinfo=tz),
        )

    def error_field_for(self) -> dict[str, str]:
        target = "day" if self.cleaned_data.get("when") == "other" else "when"
        return {
            "window_start": target,
            "window_end": target,
            "payer": "own_hours" if "own_hours" in self.fields else "",
        }


class ConfirmForm(forms.Form):
    """Confirm the visit, or say what was wrong."""

    action = forms.ChoiceField(choices=[("confirm", "confirm"), ("dispute", "dispute")], widget=forms.HiddenInput)
    complaint = forms.CharField(
        label=_("What was wrong?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "dispute" and not (data.get("complaint") or "").strip():
            self.add_error("complaint", _("Write in a few words what was wrong."))
        return data


class RateForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=_("How was the visit?"),
        choices=STAR_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the number of stars."), "invalid_choice": _("Choose 1 to 5 stars.")},
    )
    tags = forms.MultipleChoiceField(
        label=_("What was good? (tick any)"),
        choices=RATING_TAGS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Tick only the words shown.")},
    )
    comment = forms.CharField(
        label=_("Anything else? (you may leave this empty)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def hours_to_minutes(value: Decimal) -> int:
    return int(value * 60)


def _relative_label(link: Relationship) -> str:
    return f"{link.relative.name} ({link.get_kind_display()})"


class GiveForm(IdempotentForm):
    """Give stored hours to a registered relative: whole or half hours."""

    recipient = forms.ModelChoiceField(
        label=_("Who should get the hours?"),
        queryset=Relationship.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose who gets the hours."),
            "invalid_choice": _("Choose one of the people shown."),
        },
    )
    hours = forms.CharField(
        label=_("How many hours? (whole or half hours, like 2 or 1.5)"),
        max_length=8,
        error_messages=REQUIRED,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, relatives: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = relatives if relatives is not None else Relationship.objects.none()
        field.label_from_instance = _relative_label  # type: ignore[method-assign,assignment]

    def clean_hours(self) -> Decimal:
        raw = self.cleaned_data["hours"].strip().replace("，", ".").replace(",", ".").replace("。", ".")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise forms.ValidationError(_("Write a number of hours, like 2 or 1.5.")) from None
        if not value.is_finite() or value <= 0:
            raise forms.ValidationError(_("Write a number of hours above 0, like 2 or 1.5."))
        if (value * 2) != (value * 2).to_integral_value():
            raise forms.ValidationError(_("Only whole or half hours can be given, like 2 or 1.5."))
        if value > 1500:
            raise forms.ValidationError(_("That is more hours than anyone can hold."))
        return value

    @property
    def minutes(self) -> int:
        return hours_to_minutes(self.cleaned_data["hours"])
