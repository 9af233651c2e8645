"""Reads of the region tree and the sites."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from .models import Region, Site


def city() -> Region:
    return Region.objects.get(code=settings.CITY_REGION_CODE)


def towns() -> QuerySet[Region]:
    return Region.objects.filter(level=Region.Level.TOWN).order_by("code")


def region_subtree(region: Region) -> QuerySet[Region]:
    return Region.objects.filter(path__startswith=region.path)


def sites_in(region: Region) -> QuerySet[Site]:
    return Site.objects.filter(region__path__startswith=region.path).select_related("region")


def town_of(region: Region) -> Region | None:
    """The town/street a region belongs to (itself if it is one)."""
    parts = region.path.strip("/").split("/")
    if len(parts) < 2:
        return None
    return Region.objects.get(code=parts[1])
