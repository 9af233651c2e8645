from __future__ import annotations

from django.contrib import admin

from timebank.common.admin_base import ReadOnlyAdmin

from .models import Availability, AvailabilityException, DispatchProposal, MatchProfile, ProposalRow


@admin.register(Availability)
class AvailabilityAdmin(ReadOnlyAdmin):
    list_display = ("volunteer", "weekday", "start", "end")
    list_filter = ("weekday",)


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(ReadOnlyAdmin):
    list_display = ("volunteer", "date", "available", "start", "end", "note")


@admin.register(MatchProfile)
class MatchProfileAdmin(ReadOnlyAdmin):
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
