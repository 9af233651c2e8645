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


class TokenExpired(NotAuthenticated):
    code = "api.token_expired"
    message = _("This API token expired on {day}. Make a new one on the “API tokens” page.")


class MissingScope(NotAllowed):
    code = "api.missing_scope"
    message = _("This API token does not have the “{scope}” scope.")


class RateLimited(DomainError):
    code = "api.rate_limited"
    status = 429
    message = _("Too many requests. Try again in {seconds} seconds.")


class BodyTooLarge(DomainError):
    code = "api.body_too_large"
    status = 413
    message = _("The request body is too large (at most {limit} bytes).")


class UnsupportedMediaType(DomainError):
    code = "api.unsupported_media_type"
    status = 415
    message = _("Send the request body as JSON in UTF-8 (Content-Type: application/json).")


class FileExpected(UnsupportedMediaType):
    message = _("Send the file as multipart/form-data (the field “file”).")


class LengthRequired(DomainError):
    code = "api.length_required"
    status = 411
    message = _("Send the request body with a Content-Length header (chunked bodies are not accepted).")


class CsrfFailed(NotAllowed):
    code = "api.csrf_failed"
    message = _(
        "The request was refused: the security check (CSRF) of the signed-in pages failed. "
        "Reload the page and try again, or call the API with a token."
    )


class UnexpectedBody(InvalidInput):
    code = "api.unexpected_body"
    message = _("This endpoint takes no request body: send none, or an empty JSON object.")


class MalformedUpload(InvalidInput):
    code = "api.malformed_upload"
    message = _("The upload could not be read: send the file as multipart/form-data with a boundary.")


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


class NoScopes(InvalidInput):
    code = "api.no_scopes"
    message = _("Choose at least one thing the token may do (read, write or ledger).")


class BadExpiry(InvalidInput):
    code = "api.bad_expiry"
    message = _("A token's expiry must lie between tomorrow and {days} days from today.")


class NoResident(NotAllowed):
    code = "api.no_resident"
    message = _("Only a registered resident can do this (this account is not linked to a resident).")


class UnknownEndpoint(NotFound):
    code = "api.unknown_endpoint"
    message = _("There is no such API endpoint.")
