"""The elder area: for an elder, or a family proxy acting for one (few steps, big buttons, plain words)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from timebank.web.access import area_required, elders_for


@area_required("elder")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/elder/index.html", {"elders": elders_for(request.user)})  # type: ignore[arg-type]
