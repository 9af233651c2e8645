"""The versioned public API, /api/v1 (django-ninja). See docs/api.md.

One router per domain; handlers validate input with schemas and call the domains' services and selectors
(the same ones the pages call, with the same scope rules). This module holds the one error shape:
every failure, from a domain refusal to an unexpected exception, answers ``ErrorOut``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import transaction
from django.db.utils import Error as DatabaseLayerError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from timebank.common.errors import DomainError, NotAllowed, NotFound

from .auth import auth_for, caller
from .catalogue import router as catalogue_router
from .certificates import router as certificates_router
from .common import SizedJsonParser, responses
from .errors import (
    BodyTooLarge,
    CsrfFailed,
    MalformedBody,
    MalformedUpload,
    NotAuthenticated,
    RateLimited,
    ValidationFailed,
)
from .exchange import router as exchange_router
from .ledger import router as ledger_router
from .models import BenchmarkWrite
from .needs import router as needs_router
from .people import router as people_router
from .privacy import router as privacy_router
from .reports import router as reports_router
from .rewards import router as rewards_router
from .schemas import MeOut
from .training import router as training_router

log = logging.getLogger("timebank.api")

api = NinjaAPI(
    title="Time Bank API (时间银行)",
    version="1",
    description=(
        "The Zhongshan time bank's public API. Authenticate with a personal API token "
        "(`Authorization: Bearer tb_…`) or the signed-in pages' session. Every failure has the shape "
        "`{code, message, field, details}`; messages follow Accept-Language (zh-Hans, en). See docs/api.md."
    ),
    urls_namespace="api-v1",
    parser=SizedJsonParser(),
)


def _error(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    body.setdefault("field", None)
    body.setdefault("details", [])
    return api.create_response(request, body, status=status)


def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = _error(request, exc.status, exc.as_dict())
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.params.get("seconds", 1))
    return response


def _field(loc: list[Any] | tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload", "filters", "page")]
    return ".".join(parts) or None


def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Schema validation (types, ranges, unknown or missing fields): 400 ``invalid_input`` with one
    detail per field. The details' messages are pydantic's (English)."""
    details = [
        {"field": _field(e.get("loc", ())), "code": str(e.get("type", "invalid")), "message": str(e.get("msg", ""))}
        for e in exc.errors
    ]
    err = ValidationFailed(field=details[0]["field"] if details else None)
    return _error(request, 400, err.as_dict() | {"details": details})


def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, DomainError):  # raised by the body parser
        return domain_error(request, cause)
    if isinstance(cause, RequestDataTooBig):
        return domain_error(request, BodyTooLarge(limit=_body_limit()))
    if isinstance(cause, ValueError | RecursionError | UnicodeDecodeError | json.JSONDecodeError):
        return domain_error(request, MalformedBody())
    if exc.status_code == 401:
        return domain_error(request, NotAuthenticated())
    if exc.status_code == 403:  # the session's CSRF check (ninja's only 403)
        return domain_error(request, CsrfFailed())
    if exc.status_code == 429:
        return domain_error(request, RateLimited(seconds=1))
    if exc.status_code == 400:  # ninja could not read the body
        return domain_error(request, MalformedBody())
    log.warning("API: unexpected HttpError %s on %s %s", exc.status_code, request.method, request.path)
    return _error(request, exc.status_code, {"code": f"http_{exc.status_code}", "message": _("The request failed.")})


def _body_limit() -> int:
    from .middleware import body_limit

    return body_limit()


def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return domain_error(request, NotAuthenticated())


def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return domain_error(request, NotFound())


def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return domain_error(request, NotAllowed())


def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return domain_error(request, BodyTooLarge(limit=_body_limit()))


def bad_upload(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return domain_error(request, MalformedUpload())


def database_error(request: HttpRequest, exc: DatabaseLayerError) -> HttpResponse:
    """A lost database connection: 503 ``service_unavailable`` with ``Retry-After`` (retry with the same key)."""
    from timebank.common.unavailable import connection_lost, unavailable_response

    if connection_lost(exc):
        log.warning("database connection lost during %s %s: %s", request.method, request.path, exc)
        return unavailable_response(request)
    return unexpected(request, exc)


def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A bug: logged with its traceback, answered with the shape and no internals."""
    log.exception("API error on %s %s", request.method, request.path)
    return _error(
        request, 500, {"code": "server_error", "message": _("Something went wrong on our side. It has been logged.")}
    )


_HANDLERS: list[tuple[type[Exception], Any]] = [
    (DomainError, domain_error),
    (AuthenticationError, auth_error),  # looked up by the exception's class hierarchy: before HttpError
    (ValidationError, validation_error),
    (HttpError, http_error),
    (Http404, not_found),
    (PermissionDenied, permission_denied),
    (RequestDataTooBig, too_big),
    (DatabaseLayerError, database_error),
    (MultiPartParserError, bad_upload),
    (Exception, unexpected),
]
for _exc, _handler in _HANDLERS:
    api.add_exception_handler(_exc, _handler)


@api.get("/me", response=responses(MeOut), auth=auth_for("read"), tags=["me"], summary="Who is calling")
def me(request: HttpRequest) -> dict[str, Any]:
    from timebank.people.selectors import active_roles

    user = caller(request)
    token = getattr(request, "api_token", None)
    return {
        "user_id": user.pk,
        "username": user.username,
        "resident_id": user.resident_id,
        "roles": [{"role": r.role, "region": r.region.code, "region_name": r.region.name} for r in active_roles(user)],
        "scopes": list(token.scopes) if token is not None else ["read", "write", "ledger"],
        "via": "token" if token is not None else "session",
        "token_prefix": token.prefix if token is not None else None,
        "token_expires_at": token.expires_at if token is not None else None,
    }


@api.get("/health", response={200: dict[str, bool]}, tags=["me"], summary="Liveness (no database, no auth)")
def health(request: HttpRequest) -> dict[str, bool]:
    """A trivial endpoint for probes and the API benchmark's baseline: it touches neither the database nor auth."""
    return {"ok": True}


@api.post(
    "/bench/write",
    response={201: dict[str, int]},
    auth=auth_for("write"),
    include_in_schema=False,
    summary="Benchmark baseline: token auth, one INSERT in a transaction, commit",
)
def bench_write(request: HttpRequest) -> Status[dict[str, int]]:
    """The least a Django write can do (the API benchmark's baseline for the confirmation): authenticate the
    token, insert one row in a transaction, commit. Off (404) unless ``API_BENCH_ENDPOINTS`` is set."""
    if not settings.API_BENCH_ENDPOINTS:
        raise NotFound()
    with transaction.atomic():
        row = BenchmarkWrite.objects.create(caller=caller(request).pk)
    return Status(201, {"id": row.pk})


api.add_router("/people", people_router)
api.add_router("/catalogue", catalogue_router)
api.add_router("/", needs_router)
api.add_router("/ledger", ledger_router)
api.add_router("/training", training_router)
api.add_router("/reports", reports_router)
api.add_router("/exchange", exchange_router)
api.add_router("/service-certificates", certificates_router)
api.add_router("/rewards", rewards_router)
api.add_router("/me", privacy_router)
