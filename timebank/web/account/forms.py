from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
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


class CodeForm(forms.Form):
    """The 6-digit code of an authenticator app (spaces are allowed, as the apps show ``123 456``)."""

    code = forms.CharField(
        label=_("The 6-digit code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True, "size": 8}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Type the 6 digits, for example 123456."), code="account.code_format")
        return code


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form (old password, then the new one twice, checked by AUTH_PASSWORD_VALIDATORS), our words."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Your present password")
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password1"].help_text = _(
            "At least 8 characters; not only digits, and not a common password such as 12345678."
        )
        self.fields["new_password2"].label = _("The new password again")
        for field in self.fields.values():
            field.widget.attrs.pop("autofocus", None)
        self.fields["old_password"].widget.attrs["autofocus"] = True
