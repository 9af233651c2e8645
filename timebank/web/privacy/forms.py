from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from timebank.people.models import CorrectionRequest, Departure


class CorrectionForm(forms.Form):
    field = forms.ChoiceField(label=_("What is wrong?"), choices=CorrectionRequest.Field.choices)
    new_value = forms.CharField(
        label=_("What it should be"),
        required=False,
        max_length=200,
        help_text=_("For languages: for example 粤语 普通话. For something else, you may leave this empty."),
    )
    reason = forms.CharField(
        label=_("Why (a few words)"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class AnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Your answer"),
        choices=[("accept", _("Correct it as asked")), ("reject", _("Do not correct it"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Reason or what you did (the person reads this)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DepartureForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why does the person leave?"), choices=Departure.Reason.choices)
    erase_now = forms.BooleanField(
        label=_("The person asked for their personal data to be removed now"),
        required=False,
        help_text=_("Otherwise it is kept for the retention period and then removed."),
    )
