"""Printing an elder's card: issue a new QR token and PIN and render them as an A6 PDF in one step.

The plain token and PIN exist only in the :class:`~timebank.care.services.IssuedCard` that
:func:`~timebank.care.services.card_issue` returns, so the PDF must be rendered right then; nothing else can
print the card again. Issuing revokes the elder's previous card at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from timebank.places.models import Region, Site

from . import services
from .card_pdf import render_card_pdf

if TYPE_CHECKING:
    from timebank.people.models import Resident, User


def card_station(elder: Resident) -> Site | None:
    """The site printed on the card: the elder's community station, else their town's care centre."""
    station = elder.home_region.sites.filter(kind=Site.Kind.STATION, active=True).order_by("code").first()
    if station is not None:
        return station
    region: Region | None = elder.home_region
    while region is not None and region.level != Region.Level.TOWN:
        region = region.parent
    if region is None:
        return None
    return (
        Site.objects.filter(kind=Site.Kind.CENTRE, active=True, region__path__startswith=region.path)
        .order_by("region__path", "code")
        .first()
    )


def card_reissue_pdf(*, actor: User | None, elder: Resident) -> bytes:
    """Issue ``elder`` a new card (the old QR code and PIN stop working) and return it as a PDF.

    ``services.card_issue`` checks that ``actor`` may manage the elder. Issuing and rendering share one
    transaction: if the PDF cannot be made, the new card is not kept and the old one is not revoked, so an
    elder is never left with a revoked card and no printable replacement.
    """
    with transaction.atomic():
        issued = services.card_issue(actor=actor, elder=elder)
        return render_card_pdf(
            elder=elder,
            token=issued.token,
            pin=issued.pin,
            station=card_station(elder),
            issued_on=timezone.localdate(issued.card.issued_at),
        )
