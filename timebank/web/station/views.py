"""The station area: a social worker's day (today's visits, needs to match, disputes, flags)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from timebank.people.selectors import active_roles
from timebank.web.access import area_required


@area_required("station")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/station/index.html", {"roles": active_roles(request.user)})  # type: ignore[arg-type]
