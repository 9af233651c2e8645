"""Validators of what people type about a person: the name (see :mod:`timebank.common.names`).

Services call :func:`person_name`; forms may add :func:`validate_person_name` to a field so the message
appears next to it before the service runs.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from timebank.common.names import HiddenCharacters, clean_name

from .errors import InvalidName

MAX_NAME_LENGTH = 64


def person_name(value: str | None, *, field: str = "name") -> str:
    """The name as stored: cleaned (no invisible or control characters, NFC, one middle dot), 1 to 64
    characters. Raises :class:`InvalidName` or :class:`HiddenCharacters`."""
    name = clean_name(value, field=field)
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidName(field=field)
    return name


def validate_person_name(value: str) -> None:
    """A Django form validator with the same rule."""
    try:
        person_name(value)
    except (InvalidName, HiddenCharacters) as exc:
        raise ValidationError(exc.text, code=exc.code) from None
