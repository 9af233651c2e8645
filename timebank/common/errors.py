"""Errors a user can meet. Each has a stable code and a message in the user's language.

A service raises a subclass of :class:`DomainError`; views and the API turn it into a 4xx response or a
form error. Messages are English in code and translated to Chinese (zh-Hans is the default language).
Services raise before they write, or inside ``transaction.atomic`` so that nothing is half-written.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base class: ``code`` is stable (clients may switch on it), ``message`` is translated lazily."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    message: ClassVar[str | Promise] = _("The request could not be carried out.")

    def __init__(self, message: str | Promise | None = None, *, field: str | None = None, **params: Any):
        self._message = message if message is not None else self.message
        self.field = field
        self.params = params
        super().__init__(self.code)

    @property
    def text(self) -> str:
        """The message in the active language, with its parameters filled in."""
        text = str(self._message)
        return text.format(**self.params) if self.params else text

    def __str__(self) -> str:
        return f"[{self.code}] {self.text}"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.text, "field": self.field}


class InvalidInput(DomainError):
    code = "invalid_input"
    message = _("The input is not valid.")


class NotAllowed(DomainError):
    code = "not_allowed"
    status = 403
    message = _("You are not allowed to do this.")


class OutOfScope(NotAllowed):
    code = "out_of_scope"
    message = _("This person or place is outside the area you look after.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = _("Not found.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = _("This conflicts with the current state.")


class ServiceUnavailable(DomainError):
    """The database could not be reached (a lost connection, a restart): answered 503 with ``Retry-After``."""

    code = "service_unavailable"
    status = 503
    message = _(
        "The time bank is briefly unavailable, and what you just did may not have been saved. "
        "Please try again in {seconds} seconds."
    )
