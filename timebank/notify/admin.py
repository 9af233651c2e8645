from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from timebank.common.admin_base import ReadOnlyAdmin
from timebank.people.selectors import residents_visible_to

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recipient", "topic", "read_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Notification.objects.filter(recipient__in=residents_visible_to(request.user).values("pk"))  # type: ignore[arg-type]
