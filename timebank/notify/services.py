"""Writes of notifications. Called inside the caller's transaction so a message exists only if the
thing it reports happened."""

from __future__ import annotations

from django.db import transaction

from timebank.people.models import Resident

from .models import Notification


def notification_send(*, recipient: Resident, topic: str, text: str) -> Notification:
    with transaction.atomic():
        return Notification.objects.create(recipient=recipient, topic=topic, text=text)
