from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from timebank.common.errors import DomainError
from timebank.people.services import login_name_for_phone


class PhoneLoginForm(AuthenticationForm):
    """Log in with a phone number (as people write it: with spaces, dashes or +86) and a password."""

    username = forms.CharField(
        label=_("Phone number"),
        max_length=32,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "username"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The phone number or the password is wrong. After 5 wrong tries the login is locked for 30 minutes."
        ),
        "inactive": _("This account is switched off. Ask your community station."),
    }

    def clean_username(self) -> str:
        raw: str = self.cleaned_data["username"]
        try:
            return login_name_for_phone(raw)
        except DomainError as exc:
            raise forms.ValidationError(exc.text, code=exc.code) from None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].label = _("Password")
