from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from timebank.common.admin_base import ReadOnlyAdmin
from timebank.people.selectors import residents_visible_to

from .models import Certificate


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ("number", "holder", "track", "valid_from", "valid_until", "revoked_at")
    list_filter = ("track",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Certificate.objects.filter(holder__in=residents_visible_to(request.user).values("pk"))  # type: ignore[arg-type]
