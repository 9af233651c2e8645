from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from timebank.common.admin_base import ReadOnlyAdmin

from .models import Competition, EventSheet, GroupEvent, Organisation, Project, Team, TeamMember
from .selectors import teams_visible_to


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "region", "active")
    list_filter = ("kind",)


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ("name", "organisation", "level", "region", "active")
    list_filter = ("level",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return teams_visible_to(request.user)  # type: ignore[arg-type]


@admin.register(TeamMember)
class TeamMemberAdmin(ReadOnlyAdmin):
    list_display = ("team", "resident", "role", "joined_on", "left_on")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return TeamMember.objects.filter(team__in=teams_visible_to(request.user).values("pk"))  # type: ignore[arg-type]


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("title", "team", "status", "places_wanted")
    list_filter = ("status",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Project.objects.filter(team__in=teams_visible_to(request.user).values("pk"))  # type: ignore[arg-type]


@admin.register(GroupEvent)
class GroupEventAdmin(ReadOnlyAdmin):
    list_display = ("title", "team", "starts_at", "capacity", "festival", "coefficient")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return GroupEvent.objects.filter(team__in=teams_visible_to(request.user).values("pk"))  # type: ignore[arg-type]


@admin.register(EventSheet)
class EventSheetAdmin(ReadOnlyAdmin):
    list_display = ("event", "batch", "coefficient", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return EventSheet.objects.filter(event__team__in=teams_visible_to(request.user).values("pk"))  # type: ignore[arg-type]


@admin.register(Competition)
class CompetitionAdmin(ReadOnlyAdmin):
    list_display = ("title", "year", "status", "closed_at")
