"""People in the admin: shown by name, ID numbers and phones masked, every look at one record audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from timebank.common.admin_base import OperatorsOnlyAdmin, ReadOnlyAdmin

from .audit import record_view_log
from .masking import mask_phone
from .models import PersonalDataView, Relationship, Resident, StaffRole, User
from .selectors import residents_visible_to

# Roles are StaffRole rows with an area, not permission groups: the groups page would be an empty, writable side door.
admin.site.unregister(Group)


@admin.register(Resident)
class ResidentAdmin(ReadOnlyAdmin):
    """Scoped like every other read: staff see only residents of their area; ID numbers and phones masked."""

    list_display = ("name", "masked_id", "sex", "birth_date", "home_region", "is_elder", "is_volunteer", "is_proxy")
    list_filter = ("is_elder", "is_volunteer", "is_proxy", "lives_alone", "disability", "low_income")
    search_fields = ("name", "name_initials", "name_pinyin")
    exclude = ("id_number", "phone")
    readonly_fields = ("masked_id", "masked_phone")

    @admin.display(description=_("ID number"))
    def masked_id(self, obj: Resident) -> str:
        return obj.id_number_masked

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Resident) -> str:
        return obj.phone_masked

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return residents_visible_to(request.user)  # type: ignore[arg-type]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        resident = self.get_object(request, unquote(object_id))
        if request.method == "GET" and resident is not None and self.has_view_permission(request, resident):
            record_view_log(viewer=request.user, resident=resident, purpose="admin: resident form")  # type: ignore[arg-type]
        return super().change_view(request, object_id, form_url, extra_context)


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
class StaffRoleAdmin(OperatorsOnlyAdmin):
    list_display = ("user", "role", "region", "site", "organisation", "active")
    list_select_related = ("user", "region", "site")


@admin.register(PersonalDataView)
class PersonalDataViewAdmin(ReadOnlyAdmin):
    """The audit of looks at personal data: for operators and city supervisors (the admin's users)."""

    list_display = ("viewed_at", "viewer", "resident", "kind", "purpose")
    list_filter = ("kind",)
    list_select_related = ("viewer", "resident")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        visible = residents_visible_to(request.user).values("pk")  # type: ignore[arg-type]
        return PersonalDataView.objects.filter(resident__in=visible)


@admin.register(User)
class UserAdmin(BaseUserAdmin, OperatorsOnlyAdmin):  # type: ignore[type-arg]
    """Login accounts, read-only, for operators: shown by name; the login name (a phone number) masked."""

    list_display = ("__str__", "masked_login", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("first_name", "last_name", "resident__name")
    ordering = ("first_name", "pk")
    fieldsets = (
        (None, {"fields": ("masked_login", "first_name", "last_name", "resident")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = (
        "masked_login",
        "first_name",
        "last_name",
        "resident",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_login",
        "date_joined",
    )

    @admin.display(description=_("login name"))
    def masked_login(self, obj: User) -> str:
        return mask_phone(obj.username) if obj.username.lstrip("+").isdigit() else obj.username

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        account = self.get_object(request, unquote(object_id))
        person = account.resident if account is not None else None
        if request.method == "GET" and person is not None and self.has_view_permission(request, account):
            record_view_log(viewer=request.user, resident=person, purpose="admin: user account form")  # type: ignore[arg-type]
        return super().change_view(request, object_id, form_url, extra_context)
