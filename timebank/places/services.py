"""Writes to the region tree and the list of service sites."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import transaction

from timebank.common.errors import OutOfScope
from timebank.common.names import clean_name

from .errors import BadCode, BadCoordinates, BadName, BadRegionLevel, BadSiteKind, DuplicateCode
from .geo import valid_coordinates
from .models import Region, Site

if TYPE_CHECKING:
    from timebank.people.models import User

_CODE = re.compile(r"^[A-Za-z0-9._-]+$")
_CHILD_LEVEL = {Region.Level.CITY: Region.Level.TOWN, Region.Level.TOWN: Region.Level.COMMUNITY}


def region_create(
    *,
    parent: Region | None,
    code: str,
    name: str,
    level: str,
    kind: str = "",
    lat: float | None = None,
    lon: float | None = None,
    population: int | None = None,
) -> Region:
    expected = Region.Level.CITY if parent is None else _CHILD_LEVEL.get(Region.Level(parent.level))
    if level != expected:
        raise BadRegionLevel(
            field="level",
            child=Region.Level(level).label if level in Region.Level.values else level,
            parent=Region.Level(parent.level).label if parent else "—",
        )
    if not _CODE.fullmatch(code or "") or len(code) > 24:
        raise BadCode(field="code", max_length=24)
    name = clean_name(name)
    if not name or len(name) > 64:
        raise BadName(field="name", max_length=64)
    if (lat is not None or lon is not None) and not valid_coordinates(lat, lon):
        raise BadCoordinates(field="lat")
    if Region.objects.filter(code=code).exists():
        raise DuplicateCode(field="code", code=code)
    path = (parent.path if parent else "") + f"{code}/"
    with transaction.atomic():
        return Region.objects.create(
            parent=parent,
            code=code,
            name=name,
            level=level,
            kind=kind,
            lat=lat,
            lon=lon,
            population=population,
            path=path,
        )


def site_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    kind: str,
    region: Region,
    lat: float,
    lon: float,
    address: str = "",
    phone: str = "",
) -> Site:
    """Open a service site. Staff may open sites only inside their own area; ``actor=None`` is the system."""
    if actor is not None:
        from timebank.people.selectors import can_manage_region

        if not can_manage_region(actor, region):
            raise OutOfScope()
    if not _CODE.fullmatch(code or "") or len(code) > 32:
        raise BadCode(field="code", max_length=32)
    name = clean_name(name)
    if not name or len(name) > 96:
        raise BadName(field="name", max_length=96)
    if kind not in Site.Kind.values:
        raise BadSiteKind(field="kind", value=kind)
    if not valid_coordinates(lat, lon):
        raise BadCoordinates(field="lat")
    if Site.objects.filter(code=code).exists():
        raise DuplicateCode(field="code", code=code)
    with transaction.atomic():
        return Site.objects.create(
            code=code, name=name, kind=kind, region=region, lat=lat, lon=lon, address=address, phone=phone
        )
