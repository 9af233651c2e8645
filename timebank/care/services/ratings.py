"""Ratings of a finished visit, by either side."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from timebank.care.errors import (
    AlreadyRated,
    BadRating,
    IllegalTransition,
)
from timebank.care.models import (
    Rating,
    Visit,
)

if TYPE_CHECKING:
    from timebank.people.models import User
from ._common import VS, _confirmer, _move_visit


def visit_rate(
    *,
    actor: User,
    visit: Visit,
    stars: int,
    tags: list[str] | None = None,
    comment: str = "",
    complaint: bool = False,
) -> Rating:
    """Rate the other side of a finished visit (1–5 stars). A complaint is kept on the volunteer's record."""
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise BadRating(field="stars")
    if actor.resident_id == visit.volunteer_id:
        side = Rating.Side.VOLUNTEER
    else:
        _confirmer(actor, visit)
        side = Rating.Side.ELDER
    clean_tags = [str(t)[:24] for t in (tags or [])][:8]
    with transaction.atomic():
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.status not in (VS.CONFIRMED, VS.RATED, VS.VOIDED, VS.TOO_SHORT):
            raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
        if Rating.objects.filter(visit=visit, side=side).exists():
            raise AlreadyRated()
        rating = Rating.objects.create(
            visit=visit,
            side=side,
            stars=stars,
            tags=clean_tags,
            comment=comment.strip()[:2000],
            is_complaint=complaint,
            by=actor,
        )
        if side == Rating.Side.ELDER and visit.status == VS.CONFIRMED:
            _move_visit(visit, VS.RATED, actor=actor)
            visit.save(update_fields=["status"])
    return rating
