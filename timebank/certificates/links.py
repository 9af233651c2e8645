"""The public address of the verification page, as printed in the certificate's QR code."""

from __future__ import annotations

import os

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


def public_base(request: HttpRequest | None = None) -> str:
    """``settings.PUBLIC_BASE_URL`` or the ``PUBLIC_BASE_URL`` environment variable (e.g.
    ``https://timebank.example.gov.cn``); else the host of the current request; else the first allowed host."""
    base = getattr(settings, "PUBLIC_BASE_URL", "") or os.environ.get("PUBLIC_BASE_URL", "")
    if base:
        return base.rstrip("/")
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    host = (settings.ALLOWED_HOSTS or ["localhost"])[0].lstrip(".")
    return f"http://{host}"


def verify_url(code: str, request: HttpRequest | None = None) -> str:
    return public_base(request) + reverse("certificate-verify", args=[code])
