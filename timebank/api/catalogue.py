"""The service catalogue: what elders can ask for and on what terms (``care.selectors.catalogue``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.params import functions as param_functions

from timebank.care import selectors
from timebank.care.models import Item

from .auth import auth_for
from .common import In, get_visible, responses
from .schemas import ItemOut

router = Router(tags=["catalogue"])

CODE = r"^[A-Za-z0-9_\-]{1,32}$"


class ItemFilters(In):
    category: str | None = Field(None, pattern=CODE, description="A category code.")


@router.get("/items", response=responses(list[ItemOut]), auth=auth_for("read"), summary="Active catalogue items")
def item_list(request: HttpRequest, filters: Query[ItemFilters]) -> Any:
    qs = selectors.catalogue()
    if filters.category:
        qs = qs.filter(category__code=filters.category)
    return list(qs.order_by("category__order", "code"))


@router.get("/items/{code}", response=responses(ItemOut), auth=auth_for("read"), summary="One catalogue item")
def item_get(request: HttpRequest, code: str = param_functions.Path(..., pattern=CODE)) -> Item:
    item = selectors.catalogue().filter(code=code).first()
    return get_visible(selectors.catalogue(), item.pk if item else 0)
