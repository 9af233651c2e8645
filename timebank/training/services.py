"""Writes of training records."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from timebank.common.errors import OutOfScope
from timebank.people.models import Resident
from timebank.people.selectors import can_manage_resident

from .errors import BadPeriod, BadTrack, DuplicateCertificate
from .models import Certificate, Track

if TYPE_CHECKING:
    from timebank.people.models import User


def certificate_issue(
    *, actor: User | None, holder: Resident, track: str, number: str, valid_from: dt.date, valid_until: dt.date
) -> Certificate:
    """Record a certificate (``actor=None``: the system, e.g. an import or the demo loader)."""
    if actor is not None and not can_manage_resident(actor, holder):
        raise OutOfScope()
    if track not in Track.values:
        raise BadTrack(field="track", value=track)
    if valid_until < valid_from:
        raise BadPeriod(field="valid_until")
    try:
        with transaction.atomic():
            return Certificate.objects.create(
                holder=holder,
                track=track,
                number=number.strip(),
                valid_from=valid_from,
                valid_until=valid_until,
                issued_by=actor,
            )
    except IntegrityError as exc:
        raise DuplicateCertificate(field="number") from exc
