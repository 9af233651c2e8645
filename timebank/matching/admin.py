"""Matching in the admin: read-only; volunteers' times and radii and dispatch proposals read through the scope."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from timebank.common.admin_base import ReadOnlyAdmin
from timebank.people.selectors import regions_managed_by, residents_visible_to

from .models import Availability, AvailabilityException, DispatchProposal, MatchProfile, ProposalRow


class _VolunteerScoped(ReadOnlyAdmin):
    """Rows of one volunteer: listed only when the volunteer is visible to the reader."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        visible = residents_visible_to(request.user).values("pk")  # type: ignore[arg-type]
        return super().get_queryset(request).filter(volunteer__in=visible).select_related("volunteer")


@admin.register(Availability)
class AvailabilityAdmin(_VolunteerScoped):
    list_display = ("volunteer", "weekday", "start", "end")
    list_filter = ("weekday",)


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(_VolunteerScoped):
    list_display = ("volunteer", "date", "available", "start", "end", "note")


@admin.register(MatchProfile)
class MatchProfileAdmin(_VolunteerScoped):
    list_display = ("volunteer", "radius_m", "updated_at")


class ProposalRowInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ProposalRow
    extra = 0
    can_delete = False
    fields = ("need", "volunteer", "distance_m", "included", "outcome", "refusal_code", "message")
    readonly_fields = fields


@admin.register(DispatchProposal)
class DispatchProposalAdmin(ReadOnlyAdmin):
    list_display = ("region", "day", "status", "created_by", "created_at", "accepted_at")
    list_filter = ("status",)
    inlines = [ProposalRowInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # a proposal lists elders' needs: only for staff who manage its region (never a partner organisation)
        managed = regions_managed_by(request.user).values("pk")  # type: ignore[arg-type]
        return DispatchProposal.objects.filter(region__in=managed).select_related("region", "created_by")
