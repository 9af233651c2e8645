"""Helpers for forms: show a service's refusal next to the field it concerns, and idempotency keys.

A view validates its form, calls one service, and on :class:`DomainError` calls :func:`add_domain_error`:
the message (in the user's language) appears next to the field the error names, or at the top of the form,
what was typed is kept, and nothing was written (services write all or nothing).
"""

from __future__ import annotations

import uuid

from django import forms

from timebank.common.errors import DomainError


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, forms.ValidationError(exc.text, code=exc.code))


class IdempotentForm(forms.Form):
    """A form carrying a key chosen when the page was drawn: a double submit posts once."""

    idem = forms.CharField(widget=forms.HiddenInput, max_length=80, min_length=8)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not self.is_bound:
            self.initial.setdefault("idem", f"web-{uuid.uuid4().hex}")
