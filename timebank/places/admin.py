from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from timebank.common.admin_base import ReadOnlyAdmin
from timebank.people.selectors import regions_visible_to

from .models import Region, Site


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "level", "kind", "parent", "population")
    list_filter = ("level",)
    search_fields = ("name", "code")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return regions_visible_to(request.user).select_related("parent")  # type: ignore[arg-type]


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "kind", "region", "phone", "active")
    list_filter = ("kind",)
    search_fields = ("name", "code")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        paths = regions_visible_to(request.user).values("pk")  # type: ignore[arg-type]
        return Site.objects.filter(region__in=paths).select_related("region")
