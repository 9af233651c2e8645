"""The elder's card: a QR token and a PIN, stored as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from timebank.care.errors import (
    NoCard,
)
from timebank.care.models import (
    ElderCard,
)
from timebank.common.errors import OutOfScope
from timebank.people.models import Resident
from timebank.people.selectors import can_manage_resident

if TYPE_CHECKING:
    from timebank.people.models import User
from ._common import _actor


def _digest(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCard:
    card: ElderCard
    token: str  # printed as a QR code; not stored
    pin: str  # printed on the card; not stored


def card_issue(*, actor: User | None, elder: Resident) -> IssuedCard:
    """Print a new card for ``elder``: a fresh QR token and PIN. The previous card stops working."""
    if actor is not None and not can_manage_resident(actor, elder):
        raise OutOfScope()
    token = secrets.token_urlsafe(18)
    pin = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        ElderCard.objects.filter(elder=elder, revoked_at__isnull=True).update(revoked_at=timezone.now())
        card = ElderCard.objects.create(
            elder=elder,
            token_hash=_digest(f"token:{token}"),
            pin_hash=_digest(f"pin:{elder.pk}:{pin}"),
            issued_by=_actor(actor),
        )
    return IssuedCard(card, token, pin)


def _code_matches(elder: Resident, code: str) -> bool:
    card = ElderCard.objects.filter(elder=elder, revoked_at__isnull=True).first()
    if card is None:
        raise NoCard()
    code = (code or "").strip()
    if code.isdigit() and len(code) == 6:
        return hmac.compare_digest(card.pin_hash, _digest(f"pin:{elder.pk}:{code}"))
    return hmac.compare_digest(card.token_hash, _digest(f"token:{code}"))
