"""Forms of the volunteer area. They check what was typed; the rules are checked by the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from timebank.care.card_pdf import token_from_payload
from timebank.people.models import Relationship
from timebank.web.forms_support import IdempotentForm

POOL = "pool"


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why can you not come?"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the reason, so the station can find someone else.")},
    )


class _PositionForm(forms.Form):
    """Where the volunteer is, when the phone tells us and the volunteer agrees (never required)."""

    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lat") is None) != (data.get("lon") is None):
            data["lat"] = data["lon"] = None  # half a position is no position
        return data


class CheckInForm(_PositionForm):
    pin = forms.CharField(
        label=_("PIN on the elder's card (6 digits)"),
        required=False,
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9 ]*", "maxlength": "12"}
        ),
    )
    qr = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)

    def clean_pin(self) -> str:
        pin = "".join(self.cleaned_data.get("pin", "").split())
        if pin and not (pin.isdigit() and len(pin) == 6):
            raise forms.ValidationError(
                _("The PIN has 6 digits, for example 123456. Type only the digits."), code="bad_pin"
            )
        return pin

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("pin") and not data.get("qr"):
            text = _("Type the PIN from the card, or scan its QR code.")
            self.add_error("pin", forms.ValidationError(text, "required"))
        return data

    @property
    def code(self) -> str:
        """What the service checks: the token from the scanned QR code, else the PIN."""
        qr = self.cleaned_data.get("qr") or ""
        return token_from_payload(qr) if qr else self.cleaned_data.get("pin", "")


class CheckOutForm(_PositionForm):
    pass


class GiveForm(IdempotentForm):
    """Give hours to a registered relative or to the public time pool, in whole or half hours."""

    to = forms.ChoiceField(label=_("Who gets the hours?"), widget=forms.RadioSelect)
    amount = forms.DecimalField(
        label=_("How many hours?"),
        min_value=Decimal("0.5"),
        max_value=Decimal("1500"),
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
        error_messages={
            "required": _("Write how many hours to give."),
            "invalid": _("Write a number of hours, for example 2 or 1.5."),
            "min_value": _("Give at least half an hour."),
            "max_value": _("That is more hours than anyone can hold."),
            "max_decimal_places": _("Use whole or half hours, for example 2 or 1.5."),
        },
    )
    from_group = forms.BooleanField(label=_("Give hours earned in group activities"), required=False)

    def __init__(self, *args: Any, relatives: list[Relationship] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.relatives = {str(r.relative_id): r for r in relatives or []}
        choices = [(key, f"{r.relative.name} ({r.get_kind_display()})") for key, r in self.relatives.items()]
        choices.append((POOL, str(_("The public time pool (for elders in need)"))))
        to_field = self.fields["to"]
        assert isinstance(to_field, forms.ChoiceField)
        to_field.choices = choices
        self.fields["to"].error_messages["required"] = _("Choose who gets the hours.")
        self.fields["to"].error_messages["invalid_choice"] = _("Choose a relative from the list, or the public pool.")

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if (amount * 2) != (amount * 2).to_integral_value():
            raise forms.ValidationError(_("Use whole or half hours, for example 2 or 1.5."), code="half_hours")
        return amount

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("from_group") and data.get("to") not in (None, POOL):
            text = _("Hours earned in group activities can only be given to the public pool.")
            self.add_error("from_group", forms.ValidationError(text, "group"))
        return data

    @property
    def minutes(self) -> int:
        return int(self.cleaned_data["amount"] * 60)

    @property
    def recipient(self) -> Relationship | None:
        return self.relatives.get(self.cleaned_data["to"])
