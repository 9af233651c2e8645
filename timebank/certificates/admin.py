"""Webhooks in the admin (certificates are handled on the station pages, which apply the area rules)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from timebank.common.admin_base import OperatorsOnlyAdmin

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .webhooks import delivery_replay


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Operators configure the endpoints here (Django's model permissions: superusers only in practice)."""

    list_display = ("name", "url", "events", "active")


class AttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "at", "response_code", "error", "duration_ms")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OperatorsOnlyAdmin):
    list_display = ("event", "event_id", "endpoint", "status", "attempts", "response_code", "next_try_at")
    list_filter = ("status", "event")
    inlines = [AttemptInline]
    actions = ["replay"]

    @admin.action(description="Send again (same event id)")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            delivery_replay(delivery=delivery)
