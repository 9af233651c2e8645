"""The ledger's one public page: the published seal (no login, no personal data)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .sealing import GENESIS, published_seals


def _groups(value: str, size: int = 8) -> list[str]:
    return [value[i : i + size] for i in range(0, len(value), size)]


@require_GET
def published_seal(request: HttpRequest) -> HttpResponse:
    """Anyone can note the latest seal hash, and compare it later: a rewritten chain shows a different hash."""
    seals = published_seals(limit=10)
    latest = seals[0] if seals else None
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "latest": None
                if latest is None
                else {"last_transfer": latest.last_id, "hash": latest.hash, "sealed_at": latest.created_at.isoformat()},
                "recent": [
                    {"last_transfer": s.last_id, "hash": s.hash, "sealed_at": s.created_at.isoformat()} for s in seals
                ],
                "genesis": GENESIS,
            }
        )
    context = {"latest": latest, "groups": _groups(latest.hash) if latest else [], "seals": seals}
    # not marked cacheable: the page carries the visitor's CSRF token (language and 长辈版 switches)
    return render(request, "ledger/seal.html", context)
