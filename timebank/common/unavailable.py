"""A lost database connection answers 503 Service Unavailable with ``Retry-After``, not 500.

When PostgreSQL restarts, fails over, or an operator ends a backend (``pg_terminate_backend``), the request
that was using the connection fails with ``OperationalError`` (or ``InterfaceError`` on a connection
already closed). That is not a bug in the request: the same request a few seconds later succeeds. So:

* pages: :class:`DatabaseUnavailableMiddleware` (errors raised in a view) and :func:`server_error`
  (``handler500``: errors raised anywhere else, e.g. in a middleware) render ``503.html``, a page that
  needs no database, in the user's language;
* the API: ``timebank.api.api`` answers its usual error shape with code ``service_unavailable``.

Either way the broken connection is closed at once, so the retry opens a new one. What the failed request
had written was rolled back by PostgreSQL with its transaction; a retry of a write with the same
idempotency key is never applied twice.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import connections
from django.db.utils import Error, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.views import defaults

from .errors import ServiceUnavailable

log = logging.getLogger("timebank.unavailable")

RETRY_AFTER_SECONDS = 5
# SQLSTATEs meaning "this connection is gone or cannot be had right now": connection exceptions (class 08),
# the server shutting down or ending the backend (57P01-57P03), too many connections (53300).
_LOST_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def connection_lost(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a database error caused by a lost (or unobtainable) connection, not by the query."""
    if isinstance(exc, InterfaceError):  # e.g. "the connection is closed"
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)  # psycopg 3, psycopg2
    if state is None:
        # no answer from a server at all (refused, reset, "server closed the connection unexpectedly");
        # SQLite's OperationalErrors (a locked file, a missing table) are not about a connection
        return type(cause).__module__.split(".")[0] in ("psycopg", "psycopg2")
    return str(state).startswith(_LOST_STATES)


def close_broken_connections() -> None:
    """Close every connection that no longer works, so that the next request opens a fresh one."""
    for conn in connections.all(initialized_only=True):
        try:
            if conn.connection is not None and not conn.is_usable():
                conn.close()
        except Error:
            log.warning("closing a broken %s connection failed", conn.alias, exc_info=True)


def _language(request: HttpRequest) -> str:
    return getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: JSON in the API's error shape under /api/, else a page needing no database."""
    close_broken_connections()
    with translation.override(_language(request)):
        err = ServiceUnavailable(seconds=RETRY_AFTER_SECONDS)
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse(err.as_dict() | {"details": []}, status=err.status)
        else:
            html = render_to_string(
                "503.html",
                {
                    "message": err.text,
                    "seconds": RETRY_AFTER_SECONDS,
                    "refresh": request.method in ("GET", "HEAD"),  # a form sent again is the user's choice
                    "LANGUAGE_CODE": _language(request),
                },
            )
            response = HttpResponse(html, status=err.status)
        response["Content-Language"] = translation.get_language()
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a lost database connection in a view into 503 + ``Retry-After`` (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not connection_lost(exception):
            return None
        log.warning("database connection lost during %s %s: %s", request.method, request.path, exception)
        return unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a lost connection raised outside a view is a 503 too; anything else is Django's 500."""
    exc = sys.exc_info()[1]
    if connection_lost(exc):
        log.warning("database connection lost during %s %s: %s", request.method, request.path, exc)
        return unavailable_response(request)
    return defaults.server_error(request)
