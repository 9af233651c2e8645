from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def elder_mode(request: HttpRequest) -> dict[str, Any]:
    """长辈版 is on when the device cookie says so, or else when the account says so."""
    cookie = request.COOKIES.get("elder_mode")
    if cookie is not None:
        on = cookie == "1"
    else:
        user = getattr(request, "user", None)
        on = bool(user is not None and user.is_authenticated and getattr(user, "elder_mode", False))
    return {"elder_mode": on}
