"""Forms of the rewards pages. Kinds are checked by the services (so a star level asked for by hand gets
the service's coded refusal, not a generic "choose a valid option")."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from timebank.rewards.models import Honour, RewardKind


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Name, initials, ID card number or phone"), max_length=40, required=False)


class HonourForm(forms.Form):
    kind = forms.CharField(
        label=_("Kind of honour"),
        max_length=40,
        widget=forms.Select(choices=[c for c in Honour.Kind.choices if c[0] != Honour.Kind.EXCELLENT_TEAM]),
    )
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    year = forms.IntegerField(label=_("Year"))
    citation = forms.CharField(
        label=_("Citation (why it is given, shown on the public roll)"), widget=forms.Textarea, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)


class TeamHonourForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    year = forms.IntegerField(label=_("Year"))
    citation = forms.CharField(
        label=_("Citation (why it is given, shown on the public roll)"), widget=forms.Textarea, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)


class EntitlementForm(forms.Form):
    kind = forms.ModelChoiceField(label=_("Reward"), queryset=RewardKind.objects.filter(active=True), empty_label=None)
    note = forms.CharField(label=_("Note (optional)"), max_length=200, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea, required=False)
