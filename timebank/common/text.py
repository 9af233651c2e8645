"""Lazily translated text with parameters.

``gettext_lazy("… %(age)s …") % {...}`` translates at once, in whatever language is active when the
code runs (often none: a background job or a service called before the request's language is known).
These helpers keep the text lazy, so it is translated when it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.utils.functional import Promise, lazy


def _interpolate(message: str | Promise, params: Mapping[str, Any]) -> str:
    return str(message) % {k: str(v) if isinstance(v, Promise) else v for k, v in params.items()}


def _join(separator: str, parts: tuple[str | Promise, ...]) -> str:
    return separator.join(str(p) for p in parts)


_interpolate_lazy = lazy(_interpolate, str)
_join_lazy = lazy(_join, str)


def interpolate_lazy(message: str | Promise, params: Mapping[str, Any]) -> Promise:
    """``message % params``, translated when it is turned into a string."""
    return cast(Promise, _interpolate_lazy(message, dict(params)))


def join_lazy(separator: str, parts: Iterable[str | Promise]) -> Promise:
    """``separator.join(parts)``, each part translated when the result is turned into a string."""
    return cast(Promise, _join_lazy(separator, tuple(parts)))
