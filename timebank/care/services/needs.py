"""Needs: publish, cancel, expire, and the government guarantee when no volunteer came."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.care.errors import (
    BadPayer,
    BadPreference,
    BadWindow,
    GuaranteeNotYet,
    IllegalTransition,
    NotAnElder,
    NotEnoughHours,
    ReasonRequired,
    UnknownItem,
)
from timebank.care.models import (
    CareEvent,
    Item,
    Need,
    Visit,
)
from timebank.common.errors import OutOfScope
from timebank.common.selectors import policy_value
from timebank.ledger import selectors as ledger_selectors
from timebank.ledger import services as ledger
from timebank.ledger.errors import InsufficientBalance
from timebank.people.models import Resident
from timebank.people.selectors import can_manage_resident, eligibility
from timebank.places.geo import valid_coordinates

if TYPE_CHECKING:
    from timebank.people.models import User
from ._common import NS, VS, _default_payer, _move_need, _move_visit, _not_enough, _release, _reserve, _via
from .catalogue import item_current_version


def need_publish(
    *,
    actor: User,
    elder: Resident,
    item: Item | str,
    window_start: dt.datetime,
    window_end: dt.datetime,
    notes: str = "",
    pref_language: str = "",
    pref_gender: str = "",
    payer: str | None = None,
    weeks: int = 1,
    address: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> list[Need]:
    """Publish a need (or ``weeks`` weekly needs) for ``elder``. Who pays is decided now and shown.

    ``payer``: "own" (redeem the elder's stored hours), "pool" (priority elders) or "government";
    by default the pool for priority elders and the government for others.
    """
    via = _via(actor, elder)
    if not elder.is_elder:
        raise NotAnElder(field="elder", name=elder.name)
    if isinstance(item, str):
        found = Item.objects.filter(code=item, active=True).first()
        if found is None:
            raise UnknownItem(field="item")
        item = found
    if not item.active:
        raise UnknownItem(field="item")
    version = item_current_version(item)
    now = timezone.now()
    if window_end <= window_start:
        raise BadWindow(field="window_end", reason=_("it ends before it starts"))
    if window_end <= now:
        raise BadWindow(field="window_start", reason=_("it lies in the past"))
    if window_end - window_start > dt.timedelta(hours=24):
        raise BadWindow(field="window_end", reason=_("a window may last at most one day"))
    if window_start > now + dt.timedelta(days=120):
        raise BadWindow(field="window_start", reason=_("needs can be published at most 120 days ahead"))
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= 12:
        raise BadPreference(field="weeks", value=weeks)
    if pref_language and pref_language not in ("yue", "cmn", "other"):
        raise BadPreference(field="pref_language", value=pref_language)
    if pref_gender and pref_gender not in ("M", "F"):
        raise BadPreference(field="pref_gender", value=pref_gender)
    payer = payer or _default_payer(elder)
    elig = eligibility(elder)
    estimate = ledger.credited_minutes(version.default_minutes, version.coefficient)
    if payer == Need.Payer.OWN:
        if not elig.may_redeem:
            raise BadPayer(
                field="payer",
                reason=_("stored hours can be redeemed from age %(age)s")
                % {"age": policy_value("people.redeem_min_age")},
            )
        available = ledger_selectors.resident_balance(elder).available - _reserved_by_open_needs(elder)
        if available < estimate * weeks:
            raise NotEnoughHours(
                field="payer",
                name=elder.name,
                available=ledger_selectors.hours(max(available, 0)),
                needed=ledger_selectors.hours(estimate * weeks),
            )
    elif payer == Need.Payer.POOL:
        if not elig.is_priority:
            raise BadPayer(field="payer", reason=_("the public pool pays only for priority elders"))
    elif payer != Need.Payer.GOVERNMENT:
        raise BadPreference(field="payer", value=payer)
    if lat is None or lon is None:
        lat, lon = elder.lat, elder.lon
    if not valid_coordinates(lat, lon):
        from timebank.places.errors import BadCoordinates

        raise BadCoordinates(field="lat")
    assert lat is not None and lon is not None
    series = uuid.uuid4().hex if weeks > 1 else ""
    site = elder.home_region.sites.filter(kind="station", active=True).order_by("code").first()
    needs = []
    with transaction.atomic():
        for week in range(weeks):
            shift = dt.timedelta(weeks=week)
            need = Need.objects.create(
                elder=elder,
                item=item,
                item_version=version,
                published_by=actor,
                via=via,
                region=elder.home_region,
                site=site,
                address=address if address is not None else (elder.address or elder.home_region.name),
                lat=lat,
                lon=lon,
                window_start=window_start + shift,
                window_end=window_end + shift,
                notes=notes.strip()[:2000],
                pref_language=pref_language,
                pref_gender=pref_gender,
                series=series,
                payer=payer,
                minutes_reserved=estimate if payer == Need.Payer.OWN else 0,
            )
            CareEvent.objects.create(need=need, to_status=NS.OPEN, actor=actor, note=f"via {via}")
            if payer == Need.Payer.OWN:
                _reserve(need, actor=actor)  # held in the ledger: nothing else can spend these hours now
            needs.append(need)
    return needs


def _reserved_by_open_needs(elder: Resident) -> int:
    """Own hours promised to needs not yet paid that the ledger does not hold: needs published before
    reservations were held in the ledger (new needs have a ``hold``, which the available balance already
    counts). A need whose visit is disputed is left out too: its hours are held by the dispute."""
    from django.db.models import Sum

    return (
        Need.objects.filter(elder=elder, payer=Need.Payer.OWN, status__in=[NS.OPEN, NS.ASSIGNED], hold__isnull=True)
        .exclude(visits__status=VS.DISPUTED)
        .aggregate(s=Sum("minutes_reserved"))["s"]
        or 0
    )


def need_cancel(*, actor: User, need: Need, reason: str) -> Need:
    """Cancel a need that is not served yet (the elder, their proxy or their station)."""
    _via(actor, need.elder)
    if not reason.strip():
        raise ReasonRequired(field="reason")
    with transaction.atomic():
        need = Need.objects.select_for_update().get(pk=need.pk)
        started = need.visits.exclude(status__in=[VS.ASSIGNED, VS.CANCELLED, VS.NO_SHOW]).first()
        if started is not None:  # the volunteer is there or has been: check out, then confirm or dispute
            raise IllegalTransition(thing=_("visit"), status=Visit.Status(started.status).label)
        for visit in need.visits.filter(status=VS.ASSIGNED):
            _move_visit(visit, VS.CANCELLED, actor=actor, note=reason)
            visit.save(update_fields=["status"])
        _move_need(need, NS.CANCELLED, actor=actor, note=reason)
        need.save(update_fields=["status"])
        _release(need, actor=actor, reason=reason)
    return need


#: An assigned visit that nobody checked in for by this long after the need's window is closed by
#: :func:`needs_expire` (the station had a day to record a check-in made on paper).
STALE_ASSIGNED_AFTER = dt.timedelta(hours=24)


def needs_expire(*, now: dt.datetime | None = None) -> int:
    """Mark open needs whose window has passed as expired (run by a periodic task).

    An assigned visit that nobody checked in for by :data:`STALE_ASSIGNED_AFTER` after the window is
    cancelled first (the need is open again, then expires with the others), so that a missed visit does not
    keep its need assigned, and the elder's own hours reserved, for ever. Returns how many needs expired.
    """
    moment = now or timezone.now()
    stale = Visit.objects.filter(
        status=VS.ASSIGNED, need__status=NS.ASSIGNED, need__window_end__lt=moment - STALE_ASSIGNED_AFTER
    )
    for visit in stale.order_by("pk"):
        with transaction.atomic():
            stale_visit = Visit.objects.select_for_update().select_related("need").get(pk=visit.pk)
            if stale_visit.status != VS.ASSIGNED:
                continue
            note = "nobody checked in by a day after the time window"
            _move_visit(stale_visit, VS.CANCELLED, actor=None, note=note)
            stale_visit.save(update_fields=["status"])
            its_need = Need.objects.select_for_update().get(pk=stale_visit.need_id)
            if its_need.status == NS.ASSIGNED:
                _move_need(its_need, NS.OPEN, actor=None, note=note)
                its_need.save(update_fields=["status"])
    count = 0
    for need in Need.objects.filter(status=NS.OPEN, window_end__lt=moment).order_by("pk"):
        with transaction.atomic():
            locked = Need.objects.select_for_update().get(pk=need.pk)
            if locked.status != NS.OPEN:
                continue
            _move_need(locked, NS.EXPIRED, actor=None, note="window passed")
            locked.save(update_fields=["status"])
            _release(locked, actor=None, reason="window passed")
            count += 1
    return count


def need_fulfil_by_guarantee(*, actor: User, need: Need, provider: str, minutes: int | None = None) -> Need:
    """No volunteer took a redemption in time: the bureau buys the service; the elder's hours are still spent."""
    if not can_manage_resident(actor, need.elder):
        raise OutOfScope()
    if not provider.strip():
        raise ReasonRequired(field="provider")
    hours = int(policy_value("care.guarantee_after_hours"))
    if need.payer != Need.Payer.OWN or need.status != NS.OPEN:
        raise IllegalTransition(thing=_("need"), status=Need.Status(need.status).label)
    if timezone.now() - need.created_at < dt.timedelta(hours=hours) and timezone.now() < need.window_start:
        raise GuaranteeNotYet(hours=hours)
    amount = minutes or ledger.credited_minutes(need.item_version.default_minutes, need.item_version.coefficient)
    with transaction.atomic():
        need = Need.objects.select_for_update().get(pk=need.pk)
        _move_need(need, NS.GUARANTEED, actor=actor, note=provider)
        _release(need, actor=actor, reason=provider)  # the guarantee purchase below spends the hours instead
        try:
            ledger.guarantee_redeem(
                key=f"need-{need.pk}-guarantee",
                elder=need.elder,
                minutes=amount,
                actor=actor,
                memo=f"{need.item.name} · {provider.strip()}"[:200],
                ref=f"need:{need.pk}",
            )
        except InsufficientBalance:
            raise _not_enough(need.elder, amount) from None
        need.save(update_fields=["status"])
    return need
