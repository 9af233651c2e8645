from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

SCOPE_CHOICES = [
    ("read", _("Read: look up people, needs, visits, balances and reports")),
    ("write", _("Write: register people, publish needs, record and confirm visits")),
    ("ledger", _("Move hours: transfers and donations")),
]


EXPIRY_CHOICES = [
    ("30", _("In 30 days")),
    ("90", _("In 90 days")),
    ("365", _("In one year")),
    ("", _("Never (until I revoke it)")),
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
    expires = forms.TypedChoiceField(
        label=_("When should it stop working?"),
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
        widget=forms.RadioSelect,
        help_text=_("A token that expires is safer: if it leaks, it stops working by itself."),
    )
