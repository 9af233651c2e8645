"""The volunteer area: needs nearby, my visits, check-in/out, my hours."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from timebank.web.access import area_required


@area_required("volunteer")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/volunteer/index.html", {"volunteer": request.user.resident})  # type: ignore[union-attr]
