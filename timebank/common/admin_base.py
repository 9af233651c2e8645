"""Admin base: the Django admin is a scoped, read-only window on domain data.

Who may use the admin at all is the site's rule (``people.admin_site``: operators and city supervisors);
every model admin asks the site, so no model is open to someone the site refuses. Writes go through the
services (which check input, scope and policy), so the admin offers no add, change or delete for domain
models; each list is read through the scope selectors of its domain, like the pages and the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.admin_site.has_permission(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)


class OperatorsOnlyAdmin(ReadOnlyAdmin):
    """Read-only, and only for operators (superusers): accounts, staff roles, system configuration."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)
