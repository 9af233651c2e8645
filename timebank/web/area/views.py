"""The area overview: town administrators, city supervisors, partner-organisation administrators."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from timebank.people.selectors import active_roles
from timebank.web.access import area_required


@area_required("area")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/area/index.html", {"roles": active_roles(request.user)})  # type: ignore[arg-type]
