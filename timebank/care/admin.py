from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from timebank.common.admin_base import ReadOnlyAdmin

from .models import Category, Dispute, Item, ItemVersion, Need, Rating, Visit
from .selectors import needs_visible_to, visits_visible_to


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdmin):
    list_display = ("name", "name_en", "code", "order")


class ItemVersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ItemVersion
    extra = 0
    can_delete = False
    readonly_fields = ("number", "coefficient", "default_minutes", "risk", "required_track", "effective_from", "note")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = ("name", "name_en", "category", "code", "active")
    list_filter = ("category",)
    inlines = [ItemVersionInline]


@admin.register(Need)
class NeedAdmin(ReadOnlyAdmin):
    list_display = ("id", "elder", "item", "window_start", "payer", "status")
    list_filter = ("status", "payer")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return needs_visible_to(request.user)  # type: ignore[arg-type]


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ("id", "volunteer", "need", "status", "check_in_at", "actual_minutes", "credited_minutes")
    list_filter = ("status",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return visits_visible_to(request.user)  # type: ignore[arg-type]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("visit", "side", "stars", "is_complaint", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Rating.objects.filter(visit__in=visits_visible_to(request.user).values("pk"))  # type: ignore[arg-type]


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("visit", "opened_at", "outcome", "resolved_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Dispute.objects.filter(visit__in=visits_visible_to(request.user).values("pk"))  # type: ignore[arg-type]
