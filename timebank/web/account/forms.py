from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

SCOPE_CHOICES = [
    ("read", _("Read: look up people, needs, visits, balances and reports")),
    ("write", _("Write: register people, publish needs, record and confirm visits")),
    ("ledger", _("Move hours: transfers and donations")),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("What is it for?"),
        max_length=80,
        help_text=_("For example: the city volunteer platform, or a station's spreadsheet script."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("What may it do?"), choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple, initial=["read"]
    )
