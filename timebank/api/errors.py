"""Errors only the API can meet (authentication, scopes, limits, request bodies)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from timebank.common.errors import DomainError, InvalidInput, NotAllowed, NotFound


class NotAuthenticated(DomainError):
    code = "api.not_authenticated"
    status = 401
    message = _("Sign in or send a valid API token (Authorization: Bearer …).")


class TokenRevoked(NotAuthenticated):
    code = "api.token_revoked"
    message = _("This API token has been revoked.")


class MissingScope(NotAllowed):
    code = "api.missing_scope"
    message = _("This API token does not have the “{scope}” scope.")


class RateLimited(DomainError):
    code = "api.rate_limited"
    status = 429
    message = _("Too many requests with this token. Try again in {seconds} seconds.")


class BodyTooLarge(DomainError):
    code = "api.body_too_large"
    status = 413
    message = _("The request body is too large (at most {limit} bytes).")


class MalformedBody(InvalidInput):
    code = "api.malformed_json"
    message = _("The request body is not valid JSON.")


class ValidationFailed(InvalidInput):
    code = "invalid_input"
    message = _("The input is not valid.")


class KeyRequired(InvalidInput):
    code = "api.idempotency_key_required"
    message = _("Send an idempotency key (the Idempotency-Key header or the “key” field).")


class KeyMismatch(InvalidInput):
    code = "api.idempotency_key_mismatch"
    message = _("The Idempotency-Key header and the “key” field differ.")


class BadScopes(InvalidInput):
    code = "api.bad_scopes"
    message = _("Unknown scope “{scope}”; the scopes are read, write and ledger.")


class NoResident(NotAllowed):
    code = "api.no_resident"
    message = _("Only a registered resident can do this (this account is not linked to a resident).")


class UnknownEndpoint(NotFound):
    code = "api.unknown_endpoint"
    message = _("There is no such API endpoint.")
