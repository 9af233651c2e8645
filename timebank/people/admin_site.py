"""The Django admin site: who may use ``/admin/`` at all.

Rule (``people.selectors.may_use_admin``): operators (superusers) and city supervisors, whose area is the
whole city. Everyone else, including town administrators, social workers and partner organisations'
administrators (who are ``is_staff`` to use the staff pages), is refused: they work on the pages, which
apply their area rules, not on the admin, whose forms show every field and every related row. Inside,
every list is still read through the scope selectors (the same rule as the pages and the API).

There is one way in: the site's own login page (``LOGIN_URL``), with its lock-out and whatever second
factor it asks for. The admin's login page sends people there; a signed-in person the admin refuses gets
403, not a second login form.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from .selectors import may_use_admin


class TimeBankAdminSite(admin.AdminSite):
    site_header = _("Time Bank administration")
    site_title = _("Time Bank")
    index_title = _("Read-only lists for operators and city supervisors")

    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request.user)  # type: ignore[arg-type]

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.user.is_authenticated:
            if self.has_permission(request):
                return super().login(request, extra_context)  # already in: Django sends them on to the index
            raise PermissionDenied
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
            target = reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, settings.LOGIN_URL)
