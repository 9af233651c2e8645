"""Read-only, scoped admin lists. Star levels, bars and rewards are written only through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from timebank.common.admin_base import ReadOnlyAdmin
from timebank.people.selectors import residents_visible_to

from .models import Bar, Entitlement, Falsification, Honour, RewardKind, StarLevelReached


def _people(request: HttpRequest) -> QuerySet[Any]:
    return residents_visible_to(request.user).values("pk")  # type: ignore[arg-type]


@admin.register(StarLevelReached)
class StarLevelReachedAdmin(ReadOnlyAdmin):
    list_display = ("person", "level", "reached_on", "minutes", "voided_at")
    list_filter = ("level",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return StarLevelReached.objects.filter(person__in=_people(request))


@admin.register(Falsification)
class FalsificationAdmin(ReadOnlyAdmin):
    list_display = ("person", "visit", "transfer", "minutes", "reversed_minutes", "unreversed_minutes", "recorded_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Falsification.objects.filter(person__in=_people(request))


@admin.register(Bar)
class BarAdmin(ReadOnlyAdmin):
    list_display = ("person", "starts_on", "ends_on", "years")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Bar.objects.filter(person__in=_people(request))


@admin.register(Honour)
class HonourAdmin(ReadOnlyAdmin):
    list_display = ("year", "title", "kind", "person", "town", "withdrawn_at")
    list_filter = ("kind", "year")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Honour.objects.filter(person__in=_people(request))


@admin.register(RewardKind)
class RewardKindAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "min_stars", "provider", "priority_admission", "active")


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyAdmin):
    list_display = ("resident", "kind", "stars_at_grant", "granted_at", "revoked_at")
    list_filter = ("kind",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Entitlement.objects.filter(resident__in=_people(request))
