from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from timebank.common.admin_base import ReadOnlyAdmin
from timebank.people.selectors import residents_visible_to

from .models import Certificate, Course, Enrolment, Session, TrainingTarget
from .selectors import sessions_visible_to


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ("number", "holder", "track", "valid_from", "valid_until", "revoked_at")
    list_filter = ("track",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Certificate.objects.filter(holder__in=residents_visible_to(request.user).values("pk"))  # type: ignore[arg-type]


@admin.register(Course)
class CourseAdmin(ReadOnlyAdmin):
    list_display = ("title", "track", "teaching_minutes", "validity_months", "pass_score", "active")
    list_filter = ("track", "active")


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ("course", "site", "trainer", "capacity", "enrolled_count", "starts_at", "status")
    list_filter = ("status", "course__track")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return sessions_visible_to(request.user)  # type: ignore[arg-type]


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("resident", "session", "status", "queued_at", "attended", "score", "passed")
    list_filter = ("status", "passed")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Enrolment.objects.filter(session__in=sessions_visible_to(request.user).values("pk"))  # type: ignore[arg-type]


@admin.register(TrainingTarget)
class TrainingTargetAdmin(ReadOnlyAdmin):
    list_display = ("year", "track", "region", "count", "set_by", "set_at")
    list_filter = ("year", "track")
