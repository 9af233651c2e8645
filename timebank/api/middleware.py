"""What every request under /api/ passes before it reaches an endpoint (docs/api.md, "Limits").

1. The per-address rate limit (:func:`timebank.api.throttle.address_check`): counted before
   authentication, so failed token guesses count too.
2. A body sent with an unsafe method must be JSON: ``Content-Type: application/json`` (or ``…+json``),
   UTF-8 if a charset is named, no ``Content-Encoding``; anything else (``text/plain``, a form, XML) is
   415 ``api.unsupported_media_type``, whether or not the endpoint reads a body. The file uploads of the
   schema (``multipart/form-data``, the exchange imports) take only that. A declared length over
   ``API_MAX_BODY_BYTES`` is 413 before the body is read; a body without a length (chunked) is 411.
   Which operation takes which body comes from the OpenAPI schema (checked once the URL is resolved).
3. That body must be strict JSON (:func:`loads`): valid UTF-8, no ``NaN``/``Infinity``, no key given
   twice, numbers of at most 4300 digits, nesting the parser can follow; else 400
   ``api.malformed_json``. Endpoints that take no body refuse a malformed one too.
4. An endpoint that takes no body (``POST /visits/{id}/confirm``) refuses one other than ``{}``: 400
   ``api.unexpected_body`` (a body it would ignore is a mistake of the caller's, like an unknown field).

Answers are the API's error shape in the caller's language (this middleware comes after LocaleMiddleware).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from timebank.common.errors import DomainError

from .errors import (
    BodyTooLarge,
    FileExpected,
    LengthRequired,
    MalformedBody,
    MalformedUpload,
    UnexpectedBody,
    UnsupportedMediaType,
)
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


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} is given twice")
        out[key] = value
    return out


def loads(body: bytes) -> Any:
    """Strict JSON: UTF-8 text, no NaN/Infinity, no repeated key. Raises :class:`MalformedBody`."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constants, object_pairs_hook=_no_repeats)
    except (ValueError, RecursionError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
        raise MalformedBody() from None


def body_limit() -> int:
    """The smaller of the API's own body limit and Django's (DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    limits = [int(settings.API_MAX_BODY_BYTES)]
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None:
        limits.append(int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    return min(limits)


def _has_body(request: HttpRequest) -> bool:
    length = str(request.META.get("CONTENT_LENGTH") or "").strip()
    return bool(length) and length != "0"


@cache
def _operations() -> dict[tuple[str, str], frozenset[str]]:
    """(METHOD, OpenAPI path) of every operation → the media types its request body may have (empty:
    it takes no body), from the API's own schema."""
    from .api import api

    schema = api.get_openapi_schema()
    return {
        (method.upper(), path): frozenset(op.get("requestBody", {}).get("content", {}))
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
    }


_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
MULTIPART = "multipart/form-data"


def body_check(request: HttpRequest) -> None:
    """Raise 411, 413, 415 or 400 for a body the endpoint will not read (see the module's docstring)."""
    if request.method not in UNSAFE:
        return
    match = request.resolver_match
    if match is None or not match.route:
        return
    media = _operations().get((str(request.method), "/" + _CONVERTER.sub(r"{\1}", match.route)))
    if media is None:  # no such operation: the endpoint answers 404 or 405
        return
    if "HTTP_TRANSFER_ENCODING" in request.META:  # chunked: Django would read the body as empty
        raise LengthRequired()
    if not _has_body(request):
        return
    content_type = str(request.META.get("CONTENT_TYPE") or "")
    encoding = str(request.META.get("HTTP_CONTENT_ENCODING") or "identity").strip().lower()
    if MULTIPART in media:  # a file upload: the endpoint checks the file's size and kind itself
        if content_type.partition(";")[0].strip().lower() != MULTIPART or encoding != "identity":
            raise FileExpected()
        try:
            request.POST  # noqa: B018 - parse the upload now, where a broken one can be answered
        except MultiPartParserError:
            raise MalformedUpload() from None
        except RequestDataTooBig:
            raise BodyTooLarge(limit=body_limit()) from None
        return
    if not is_json_type(content_type) or encoding != "identity":
        raise UnsupportedMediaType()
    declared = str(request.META.get("CONTENT_LENGTH") or "0").strip()
    if not declared.isdigit():
        raise LengthRequired()
    if int(declared) > int(settings.API_MAX_BODY_BYTES):
        raise BodyTooLarge(limit=body_limit())
    try:
        body = request.body
    except RequestDataTooBig:
        raise BodyTooLarge(limit=body_limit()) from None
    data = loads(body)
    if not media and data != {}:
        raise UnexpectedBody()


class ApiGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            try:
                address_check(request)
            except DomainError as exc:
                return _refuse(request, exc)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if request.path_info.startswith("/api/"):
            try:
                body_check(request)
            except DomainError as exc:
                return _refuse(request, exc)
        return None


def _refuse(request: HttpRequest, exc: DomainError) -> HttpResponse:
    from .api import domain_error

    return domain_error(request, exc)
