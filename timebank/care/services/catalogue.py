"""The service catalogue: items and their versioned terms."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from timebank.care.errors import (
    BadPreference,
    ReasonRequired,
    UnknownItem,
)
from timebank.care.models import (
    Category,
    Item,
    ItemVersion,
)
from timebank.common.errors import NotAllowed
from timebank.people.selectors import is_city_supervisor
from timebank.training.models import Track

if TYPE_CHECKING:
    from timebank.people.models import User
from ._common import _actor


def catalogue_item_create(
    *,
    actor: User | None,
    code: str,
    category: Category,
    name: str,
    name_en: str,
    coefficient: Decimal | str = "1.0",
    default_minutes: int = 60,
    risk: str = ItemVersion.Risk.LOW,
    required_track: str = "",
    icon: str = "",
) -> Item:
    """Add an item with its first version (city supervisors; ``actor=None`` is the system)."""
    if actor is not None and not is_city_supervisor(actor):
        raise NotAllowed()
    with transaction.atomic():
        item = Item.objects.create(code=code, category=category, name=name, name_en=name_en, icon=icon)
        _new_version(item, actor, _coefficient(coefficient), default_minutes, risk, required_track, "")
    return item


def _coefficient(value: Decimal | str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise BadPreference(field="coefficient", value=value) from None


def _new_version(
    item: Item, actor: User | None, coefficient: Decimal, minutes: int, risk: str, track: str, note: str
) -> ItemVersion:
    bad = BadPreference
    if not coefficient.is_finite() or not Decimal("0.1") <= coefficient <= Decimal("10"):
        raise bad(field="coefficient", value=coefficient)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 15 <= minutes <= 12 * 60:
        raise bad(field="default_minutes", value=minutes)
    if risk not in ItemVersion.Risk.values:
        raise bad(field="risk", value=risk)
    if track and track not in Track.values:
        raise bad(field="required_track", value=track)
    last = item.versions.order_by("-number").first()
    return ItemVersion.objects.create(
        item=item,
        number=(last.number + 1) if last else 1,
        coefficient=coefficient,
        default_minutes=minutes,
        risk=risk,
        required_track=track,
        effective_from=timezone.now(),
        created_by=_actor(actor),
        note=note[:200],
    )


def catalogue_item_revise(
    *,
    actor: User,
    item: Item,
    note: str,
    coefficient: Decimal | str | None = None,
    default_minutes: int | None = None,
    risk: str | None = None,
    required_track: str | None = None,
) -> ItemVersion:
    """New terms for an item from now on. Needs published earlier keep the version they were published under."""
    if not is_city_supervisor(actor):
        raise NotAllowed()
    if not note.strip():
        raise ReasonRequired(field="note")
    current = item_current_version(item)
    with transaction.atomic():
        Item.objects.select_for_update().get(pk=item.pk)
        return _new_version(
            item,
            actor,
            _coefficient(coefficient) if coefficient is not None else current.coefficient,
            default_minutes if default_minutes is not None else current.default_minutes,
            risk if risk is not None else current.risk,
            required_track if required_track is not None else current.required_track,
            note,
        )


def item_current_version(item: Item) -> ItemVersion:
    version = item.versions.order_by("-number").first()
    if version is None:
        raise UnknownItem()
    return version
