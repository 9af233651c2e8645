"""Reads of training records."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from timebank.people.models import Resident

from .models import Certificate


def valid_certificates(resident: Resident, *, on: dt.date | None = None) -> QuerySet[Certificate]:
    day = on or timezone.localdate()
    return Certificate.objects.filter(
        holder=resident, valid_from__lte=day, valid_until__gte=day, revoked_at__isnull=True
    )


def holds_valid_certificate(resident: Resident, track: str, *, on: dt.date | None = None) -> bool:
    return valid_certificates(resident, on=on).filter(track=track).exists()


def other_certificates(resident: Resident, *, on: dt.date | None = None) -> list[tuple[Certificate, str]]:
    """The resident's certificates that are not valid on ``on``, newest first, each with why:
    "withdrawn", "not_yet" or "expired"."""
    day = on or timezone.localdate()
    valid = valid_certificates(resident, on=day).values("pk")
    result = []
    for cert in Certificate.objects.filter(holder=resident).exclude(pk__in=valid).order_by("-valid_until"):
        why = "withdrawn" if cert.revoked_at else ("not_yet" if cert.valid_from > day else "expired")
        result.append((cert, why))
    return result
