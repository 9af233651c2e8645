"""The policy form: a new value and the day it takes effect (today or later)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from timebank.web.forms_support import IdempotentForm


def parse_value(text: str, current: Any) -> Any:
    """What was typed, read like the value in force: a number, yes/no, a word, or a JSON list/object."""
    text = text.strip()
    if isinstance(current, bool):
        lowered = text.lower()
        if lowered in ("yes", "true", "1", "是"):
            return True
        if lowered in ("no", "false", "0", "否"):
            return False
        raise forms.ValidationError(_("Choose yes or no."), code="bad_bool")
    if isinstance(current, int):
        compact = text.replace(",", "").replace("，", "").replace(" ", "")
        try:
            return int(compact)
        except ValueError:
            raise forms.ValidationError(_("Write a whole number, e.g. 1200."), code="bad_int") from None
    if isinstance(current, (list, dict)):
        try:
            return json.loads(text)
        except ValueError:
            raise forms.ValidationError(
                _("Write the value in the same form as the value in force, e.g. %(example)s."),
                code="bad_json",
                params={"example": json.dumps(current, ensure_ascii=False)},
            ) from None
    return text


class PolicyForm(IdempotentForm):
    value = forms.CharField(
        label=_("New value"), max_length=500, error_messages={"required": _("Please fill this in.")}
    )
    effective_from = forms.DateField(
        label=_("Takes effect on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Please fill this in."),
            "invalid": _("Write the day as year-month-day, e.g. 2027-01-01."),
        },
    )
    note = forms.CharField(label=_("Why (kept with the change)"), max_length=200, required=False)

    def __init__(self, *args: Any, current: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current

    def clean_value(self) -> Any:
        return parse_value(self.cleaned_data["value"], self.current)

    def clean_effective_from(self) -> Any:
        day = self.cleaned_data["effective_from"]
        if day < timezone.localdate():
            raise forms.ValidationError(
                _("Choose today or a later day: past records keep the rules of their day."), code="past"
            )
        return day
