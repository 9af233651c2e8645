"""Forms of the station area. They check the shape of what was typed; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from timebank.care.models import Dispute, Item, Need
from timebank.people.models import Resident
from timebank.places.models import Region
from timebank.web.forms_support import IdempotentForm

LANGUAGE_CHOICES = [("yue", _("Cantonese")), ("cmn", _("Mandarin")), ("other", _("Other"))]
ROLE_CHOICES = [("elder", _("Elder (receives services)")), ("volunteer", _("Volunteer")), ("proxy", _("Family proxy"))]
REQUIRED = {"required": _("Please fill this in.")}


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, pinyin initials, ID number or phone"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class RegisterForm(IdempotentForm):
    name = forms.CharField(label=_("Full name"), max_length=64, error_messages=REQUIRED)
    id_number = forms.CharField(
        label=_("ID card number"),
        max_length=24,
        error_messages=REQUIRED,
        help_text=_("18 characters; the birth date and sex are read from it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    home_region = forms.ModelChoiceField(
        label=_("Home community"),
        queryset=Region.objects.none(),
        empty_label=_("Choose the community"),
        error_messages={**REQUIRED, "invalid_choice": _("Choose one of the communities in the list.")},
    )
    address = forms.CharField(label=_("Address (optional)"), max_length=200, required=False)
    languages = forms.MultipleChoiceField(
        label=_("Languages spoken"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["cmn"],
        error_messages={"required": _("Tick at least one language.")},
    )
    roles = forms.MultipleChoiceField(
        label=_("Registered as"), choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )
    lives_alone = forms.BooleanField(label=_("Lives alone"), required=False)
    disability = forms.ChoiceField(
        label=_("Disability"), choices=Resident.Disability.choices, initial="none", widget=forms.RadioSelect
    )
    low_income = forms.BooleanField(label=_("Low-income family (dibao)"), required=False)
    lost_only_child = forms.BooleanField(label=_("Lost their only child"), required=False)
    childless_widowed = forms.BooleanField(label=_("Widowed with no children"), required=False)

    def __init__(self, *args: Any, communities: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["home_region"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = communities
        if not self.is_bound and communities.count() == 1:
            self.initial.setdefault("home_region", communities.first())


class NeedForm(IdempotentForm):
    item = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Item.objects.none(),
        empty_label=_("Choose the service"),
        error_messages={**REQUIRED, "invalid_choice": _("Choose one of the services in the list.")},
    )
    day = forms.DateField(
        label=_("Day"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={**REQUIRED, "invalid": _("Write the day as year-month-day, e.g. 2026-05-01.")},
    )
    start = forms.TimeField(
        label=_("From"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={**REQUIRED, "invalid": _("Write the time as hours:minutes, e.g. 09:30.")},
    )
    end = forms.TimeField(
        label=_("Until"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={**REQUIRED, "invalid": _("Write the time as hours:minutes, e.g. 11:30.")},
    )
    notes = forms.CharField(label=_("Notes for the volunteer (optional)"), required=False, widget=forms.Textarea)
    pref_language = forms.ChoiceField(
        label=_("Language wanted"),
        choices=[("", _("No preference")), *LANGUAGE_CHOICES[:2]],
        required=False,
        widget=forms.RadioSelect,
    )
    pref_gender = forms.ChoiceField(
        label=_("Volunteer wanted"),
        choices=[("", _("No preference")), ("F", _("A woman")), ("M", _("A man"))],
        required=False,
        widget=forms.RadioSelect,
    )
    payer = forms.ChoiceField(
        label=_("Who pays"),
        choices=[("", _("Decide for me (the pool for priority elders, else the government)")), *Need.Payer.choices],
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, items: QuerySet[Item], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["item"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = items


class AssignForm(IdempotentForm):
    volunteer = forms.IntegerField(widget=forms.HiddenInput)


class MomentForm(IdempotentForm):
    """Check a volunteer in or out: the worker types the time it happened."""

    at = forms.DateTimeField(
        label=_("Time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={**REQUIRED, "invalid": _("Write the day and time, e.g. 2026-05-01 09:30.")},
    )


class ResolveForm(IdempotentForm):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Dispute.Outcome.POST, _("Pay all the hours")),
            (Dispute.Outcome.PART, _("Pay part of the hours")),
            (Dispute.Outcome.VOID, _("Do not pay")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what is paid.")},
    )
    minutes = forms.IntegerField(
        label=_("Minutes to pay (only when paying part)"),
        required=False,
        min_value=1,
        error_messages={"invalid": _("Write a whole number of minutes."), "min_value": _("Write at least 1 minute.")},
    )
    # not required here: the service refuses an empty reason in plain words, and writes nothing
    reason = forms.CharField(
        label=_("Reason for the decision"),
        required=False,
        widget=forms.Textarea,
        help_text=_("Required. Both sides can read it."),
    )


class DispatchForm(IdempotentForm):
    """Plan one day: the day and the area (the worker's station area, or the town for a town administrator)."""

    day = forms.DateField(
        label=_("Day to plan"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={**REQUIRED, "invalid": _("Write the day as year-month-day, e.g. 2026-05-01.")},
    )
    area = forms.ModelChoiceField(
        label=_("Area"),
        queryset=Region.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={**REQUIRED, "invalid_choice": _("Choose one of the areas in the list.")},
    )

    def __init__(self, *args: Any, areas: QuerySet[Region], today: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        field = self.fields["area"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = areas
        if not self.is_bound and areas.count() >= 1:
            self.initial.setdefault("area", areas.first())

    def clean_day(self) -> Any:
        day = self.cleaned_data["day"]
        if day < self.today:
            raise forms.ValidationError(_("This day has passed. Choose today or a later day."), code="past")
        return day


class RowChangeForm(IdempotentForm):
    """Change one row of a plan: another volunteer (one of the ranked candidates), nobody, leave out, put back."""

    ACTIONS = [("choose", "choose"), ("nobody", "nobody"), ("drop", "drop"), ("keep", "keep")]

    row = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)
    volunteer = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "choose" and not data.get("volunteer"):
            raise forms.ValidationError(_("Choose a volunteer from the list."), code="no_volunteer")
        return data


class AcceptForm(IdempotentForm):
    """The last step of a plan: book every row that has a volunteer and is not left out."""
