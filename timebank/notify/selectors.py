from __future__ import annotations

from django.db.models import QuerySet

from timebank.people.models import Resident

from .models import Notification


def notifications_for(resident: Resident) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=resident).order_by("-created_at", "-pk")
