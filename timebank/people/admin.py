from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from timebank.common.admin_base import ReadOnlyAdmin

from .models import PersonalDataView, Relationship, Resident, StaffRole, User
from .selectors import residents_visible_to


@admin.register(Resident)
class ResidentAdmin(ReadOnlyAdmin):
    """Scoped like every other read: staff see only residents of their area; ID numbers are masked."""

    list_display = ("name", "masked_id", "sex", "birth_date", "home_region", "is_elder", "is_volunteer", "is_proxy")
    list_filter = ("is_elder", "is_volunteer", "is_proxy", "lives_alone", "disability", "low_income")
    search_fields = ("name", "name_initials", "name_pinyin")
    exclude = ("id_number",)
    readonly_fields = ("masked_id",)

    @admin.display(description=_("ID number"))
    def masked_id(self, obj: Resident) -> str:
        return obj.id_number_masked

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return residents_visible_to(request.user)  # type: ignore[arg-type]


@admin.register(Relationship)
class RelationshipAdmin(ReadOnlyAdmin):
    list_display = ("resident", "relative", "kind", "is_proxy", "consent_recorded_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # both ends in scope: a link must not reveal a person the reader may not see (e.g. an elder to a partner)
        visible = residents_visible_to(request.user).values("pk")  # type: ignore[arg-type]
        return Relationship.objects.filter(resident__in=visible, relative__in=visible).select_related(
            "resident", "relative"
        )


@admin.register(StaffRole)
class StaffRoleAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "region", "site", "organisation", "active")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(PersonalDataView)
class PersonalDataViewAdmin(ReadOnlyAdmin):
    list_display = ("viewed_at", "viewer", "resident", "purpose")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)
