"""What every request under /api/ passes before it reaches an endpoint (docs/api.md, "Limits").

1. The per-address rate limit (:func:`timebank.api.throttle.address_check`): counted before
   authentication, so failed token guesses count too.
2. A body sent with an unsafe method must be JSON: ``Content-Type: application/json`` (or ``…+json``),
   UTF-8 if a charset is named, no ``Content-Encoding``; anything else (``text/plain``, a form, XML) is
   415 ``api.unsupported_media_type``, whether or not the endpoint reads a body. A declared length over
   ``API_MAX_BODY_BYTES`` is 413 before the body is read; a body without a length (chunked) is 411.

Answers are the API's error shape in the caller's language (this middleware comes after LocaleMiddleware).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from timebank.common.errors import DomainError

from .errors import BodyTooLarge, LengthRequired, UnsupportedMediaType
from .throttle import address_check

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_json_type(content_type: str) -> bool:
    """``application/json`` or ``application/<x>+json``, with no charset or UTF-8."""
    media, _sep, params = content_type.partition(";")
    media = media.strip().lower()
    if not (media == "application/json" or (media.startswith("application/") and media.endswith("+json"))):
        return False
    for param in params.split(";"):
        name, _eq, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def _has_body(request: HttpRequest) -> bool:
    length = str(request.META.get("CONTENT_LENGTH") or "").strip()
    return bool(length) and length != "0"


def body_check(request: HttpRequest) -> None:
    """Raise 415 or 413 for a body the API will not read (see the module's docstring)."""
    if request.method not in UNSAFE:
        return
    if "HTTP_TRANSFER_ENCODING" in request.META:  # chunked: Django would read the body as empty
        raise LengthRequired()
    if not _has_body(request):
        return
    encoding = str(request.META.get("HTTP_CONTENT_ENCODING") or "identity").strip().lower()
    if not is_json_type(str(request.META.get("CONTENT_TYPE") or "")) or encoding != "identity":
        raise UnsupportedMediaType()
    limit = int(settings.API_MAX_BODY_BYTES)
    declared = str(request.META.get("CONTENT_LENGTH") or "0").strip()
    if not declared.isdigit():
        raise LengthRequired()
    if int(declared) > limit:
        raise BodyTooLarge(limit=limit)


class ApiGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            try:
                address_check(request)
                body_check(request)
            except DomainError as exc:
                from .api import domain_error

                return domain_error(request, exc)
        return self.get_response(request)
