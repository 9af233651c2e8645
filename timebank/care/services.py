"""Every write of the life of a service: publish, apply, dispatch, check in/out, confirm, rate, dispute.

Each function checks the actor, the input and the allowed transition before it writes, writes the change
and a :class:`CareEvent` in one transaction, and moves hours only through :mod:`timebank.ledger.services`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.certificates import events as webhook_events
from timebank.common.errors import NotAllowed, OutOfScope
from timebank.common.selectors import policy_value
from timebank.ledger import selectors as ledger_selectors
from timebank.ledger import services as ledger
from timebank.ledger.errors import InsufficientBalance
from timebank.people.models import Relationship, Resident
from timebank.people.selectors import can_manage_resident, eligibility, is_city_supervisor
from timebank.places.geo import haversine_m, valid_coordinates
from timebank.training.models import Track
from timebank.training.selectors import holds_valid_certificate

from .errors import (
    AlreadyRated,
    BadPartPayment,
    BadPayer,
    BadPreference,
    BadRating,
    BadWindow,
    CannotConfirm,
    DoubleBooked,
    GuaranteeNotYet,
    IllegalTransition,
    ImplausibleTime,
    NoCard,
    NotAnElder,
    NotEnoughHours,
    NotQualified,
    NotTheirElder,
    NotYourVisit,
    OutsideWindow,
    ReasonRequired,
    TooFar,
    TooManyCodeAttempts,
    UnknownItem,
    WrongCode,
)
from .models import Application, CareEvent, Category, Dispute, ElderCard, Item, ItemVersion, Need, Rating, Visit

if TYPE_CHECKING:
    from timebank.people.models import User

NS = Need.Status
VS = Visit.Status

#: The allowed moves of a visit: from status → statuses it may go to.
VISIT_MOVES: dict[str, set[str]] = {
    VS.ASSIGNED: {VS.CHECKED_IN, VS.CANCELLED, VS.NO_SHOW},
    VS.CHECKED_IN: {VS.CHECKED_OUT},
    VS.CHECKED_OUT: {VS.CONFIRMED, VS.DISPUTED},
    VS.DISPUTED: {VS.CONFIRMED, VS.VOIDED},
    VS.CONFIRMED: {VS.RATED},
    VS.RATED: set(),
    VS.VOIDED: set(),
    VS.CANCELLED: set(),
    VS.NO_SHOW: set(),
}
NEED_MOVES: dict[str, set[str]] = {
    NS.OPEN: {NS.ASSIGNED, NS.CANCELLED, NS.EXPIRED, NS.GUARANTEED},
    NS.ASSIGNED: {NS.OPEN, NS.DONE, NS.CANCELLED},
    NS.DONE: set(),
    NS.CANCELLED: set(),
    NS.EXPIRED: set(),
    NS.GUARANTEED: set(),
}


def _move_visit(visit: Visit, to: str, *, actor: User | None, note: str = "") -> None:
    if to not in VISIT_MOVES[visit.status]:
        raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
    CareEvent.objects.create(
        need=visit.need, visit=visit, from_status=visit.status, to_status=to, actor=actor, note=note[:300]
    )
    visit.status = to


def _move_need(need: Need, to: str, *, actor: User | None, note: str = "") -> None:
    if to not in NEED_MOVES[need.status]:
        raise IllegalTransition(thing=_("need"), status=Need.Status(need.status).label)
    CareEvent.objects.create(need=need, from_status=need.status, to_status=to, actor=actor, note=note[:300])
    need.status = to


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and actor.pk else None


# --------------------------------------------------------------------------------------------- catalogue


def catalogue_item_create(
    *,
    actor: User | None,
    code: str,
    category: Category,
    name: str,
    name_en: str,
    coefficient: Decimal | str = "1.0",
    default_minutes: int = 60,
    risk: str = ItemVersion.Risk.LOW,
    required_track: str = "",
    icon: str = "",
) -> Item:
    """Add an item with its first version (city supervisors; ``actor=None`` is the system)."""
    if actor is not None and not is_city_supervisor(actor):
        raise NotAllowed()
    with transaction.atomic():
        item = Item.objects.create(code=code, category=category, name=name, name_en=name_en, icon=icon)
        _new_version(item, actor, _coefficient(coefficient), default_minutes, risk, required_track, "")
    return item


def _coefficient(value: Decimal | str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise BadPreference(field="coefficient", value=value) from None


def _new_version(
    item: Item, actor: User | None, coefficient: Decimal, minutes: int, risk: str, track: str, note: str
) -> ItemVersion:
    bad = BadPreference
    if not coefficient.is_finite() or not Decimal("0.1") <= coefficient <= Decimal("10"):
        raise bad(field="coefficient", value=coefficient)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 15 <= minutes <= 12 * 60:
        raise bad(field="default_minutes", value=minutes)
    if risk not in ItemVersion.Risk.values:
        raise bad(field="risk", value=risk)
    if track and track not in Track.values:
        raise bad(field="required_track", value=track)
    last = item.versions.order_by("-number").first()
    return ItemVersion.objects.create(
        item=item,
        number=(last.number + 1) if last else 1,
        coefficient=coefficient,
        default_minutes=minutes,
        risk=risk,
        required_track=track,
        effective_from=timezone.now(),
        created_by=_actor(actor),
        note=note[:200],
    )


def catalogue_item_revise(
    *,
    actor: User,
    item: Item,
    note: str,
    coefficient: Decimal | str | None = None,
    default_minutes: int | None = None,
    risk: str | None = None,
    required_track: str | None = None,
) -> ItemVersion:
    """New terms for an item from now on. Needs published earlier keep the version they were published under."""
    if not is_city_supervisor(actor):
        raise NotAllowed()
    if not note.strip():
        raise ReasonRequired(field="note")
    current = item_current_version(item)
    with transaction.atomic():
        Item.objects.select_for_update().get(pk=item.pk)
        return _new_version(
            item,
            actor,
            _coefficient(coefficient) if coefficient is not None else current.coefficient,
            default_minutes if default_minutes is not None else current.default_minutes,
            risk if risk is not None else current.risk,
            required_track if required_track is not None else current.required_track,
            note,
        )


def item_current_version(item: Item) -> ItemVersion:
    version = item.versions.order_by("-number").first()
    if version is None:
        raise UnknownItem()
    return version


# --------------------------------------------------------------------------------------------- needs


def _via(actor: User, elder: Resident) -> str:
    """How ``actor`` may act for ``elder``: as the elder, as their proxy, or as station staff."""
    if actor.resident_id == elder.pk:
        return Need.Via.ELDER
    if (
        actor.resident_id
        and Relationship.objects.filter(
            resident=elder, relative_id=actor.resident_id, is_proxy=True, ended_at__isnull=True
        ).exists()
    ):
        return Need.Via.PROXY
    if can_manage_resident(actor, elder):
        return Need.Via.STATION
    raise NotTheirElder()


def _default_payer(elder: Resident) -> str:
    return Need.Payer.POOL if eligibility(elder).is_priority else Need.Payer.GOVERNMENT


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
            needs.append(need)
    return needs


def _reserved_by_open_needs(elder: Resident) -> int:
    """Own hours promised to needs not yet paid. A need whose visit is disputed is left out: its hours are
    already held in the ledger (a pending transfer), which the available balance counts."""
    from django.db.models import Sum

    return (
        Need.objects.filter(elder=elder, payer=Need.Payer.OWN, status__in=[NS.OPEN, NS.ASSIGNED])
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
            count += 1
    return count


# --------------------------------------------------------------------------------------------- volunteers


def volunteer_check(volunteer: Resident, need: Need) -> None:
    """Raise :class:`NotQualified` unless ``volunteer`` may serve ``need`` (the hard rules)."""
    day = timezone.localtime(need.window_start).date()
    reason = None
    if not volunteer.is_volunteer:
        reason = _("not registered as a volunteer")
    elif volunteer.pk == need.elder_id:
        reason = _("nobody can serve themselves")
    else:
        elig = eligibility(volunteer, on=day)
        track = need.item_version.required_track
        if not elig.may_serve:
            reason = "; ".join(str(r) for r in elig.serve_reasons)
        elif track and not holds_valid_certificate(volunteer, track, on=day):
            reason = _("needs a valid %(track)s certificate") % {"track": Track(track).label}
        elif need.pref_gender and volunteer.sex != need.pref_gender:
            reason = _("the elder asked for a volunteer of the other sex")
        elif need.pref_language and need.pref_language not in (volunteer.languages or []):
            reason = _("does not speak the language the elder asked for")
    if reason:
        raise NotQualified(name=volunteer.name, reason=reason)


def application_apply(*, actor: User, need: Need) -> Application:
    """A volunteer offers to serve an open need."""
    volunteer = actor.resident
    if volunteer is None:
        raise NotAllowed()
    if need.status != NS.OPEN:
        raise IllegalTransition(thing=_("need"), status=Need.Status(need.status).label)
    volunteer_check(volunteer, need)
    with transaction.atomic():
        application, _created = Application.objects.get_or_create(need=need, volunteer=volunteer)
        if application.status == Application.Status.WITHDRAWN:
            application.status = Application.Status.APPLIED
            application.save(update_fields=["status"])
    return application


def application_withdraw(*, actor: User, application: Application) -> Application:
    if actor.resident_id != application.volunteer_id:
        raise NotYourVisit()
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status != Application.Status.APPLIED:  # accepted: decline the visit instead
            raise IllegalTransition(thing=_("application"), status=Application.Status(application.status).label)
        application.status = Application.Status.WITHDRAWN
        application.save(update_fields=["status"])
    return application


def visit_assign(*, actor: User, need: Need, volunteer: Resident) -> Visit:
    """A social worker dispatches ``volunteer`` to ``need`` (or accepts their application).

    The volunteer's row is locked, so two dispatchers cannot book one volunteer twice at the same time.
    """
    if not can_manage_resident(actor, need.elder):
        raise OutOfScope()
    volunteer_check(volunteer, need)
    with transaction.atomic():
        Resident.objects.select_for_update().get(pk=volunteer.pk)
        need = Need.objects.select_for_update().get(pk=need.pk)
        clash = Visit.objects.filter(
            volunteer=volunteer,
            status__in=[VS.ASSIGNED, VS.CHECKED_IN],
            need__window_start__lt=need.window_end,
            need__window_end__gt=need.window_start,
        ).exists()
        if clash:
            raise DoubleBooked(name=volunteer.name)
        _move_need(need, NS.ASSIGNED, actor=actor, note=f"volunteer {volunteer.pk}")
        need.save(update_fields=["status"])
        visit = Visit.objects.create(need=need, volunteer=volunteer, assigned_by=actor)
        CareEvent.objects.create(need=need, visit=visit, to_status=VS.ASSIGNED, actor=actor)
        need.applications.filter(volunteer=volunteer).update(status=Application.Status.ACCEPTED)
        need.applications.exclude(volunteer=volunteer).filter(status=Application.Status.APPLIED).update(
            status=Application.Status.NOT_CHOSEN
        )
    return visit


def visit_decline(*, actor: User, visit: Visit, reason: str) -> Visit:
    """The volunteer cannot come after all: the visit is cancelled and the need is open again."""
    if actor.resident_id != visit.volunteer_id:
        raise NotYourVisit()
    if not reason.strip():
        raise ReasonRequired(field="reason")
    return _reopen(visit, VS.CANCELLED, actor=actor, reason=reason)


def visit_no_show(*, actor: User, visit: Visit, note: str = "") -> Visit:
    """The station records that the volunteer did not come; the need is open again."""
    if not can_manage_resident(actor, visit.need.elder):
        raise OutOfScope()
    return _reopen(visit, VS.NO_SHOW, actor=actor, reason=note or "no show")


def _reopen(visit: Visit, to: str, *, actor: User, reason: str) -> Visit:
    with transaction.atomic():
        visit = Visit.objects.select_for_update().select_related("need").get(pk=visit.pk)
        _move_visit(visit, to, actor=actor, note=reason)
        visit.save(update_fields=["status"])
        need = Need.objects.select_for_update().get(pk=visit.need_id)
        if need.status == NS.ASSIGNED:
            _move_need(need, NS.OPEN, actor=actor, note=reason)
            need.save(update_fields=["status"])
    return visit


# --------------------------------------------------------------------------------------------- cards


def _digest(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCard:
    card: ElderCard
    token: str  # printed as a QR code; not stored
    pin: str  # printed on the card; not stored


def card_issue(*, actor: User | None, elder: Resident) -> IssuedCard:
    """Print a new card for ``elder``: a fresh QR token and PIN. The previous card stops working."""
    if actor is not None and not can_manage_resident(actor, elder):
        raise OutOfScope()
    token = secrets.token_urlsafe(18)
    pin = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        ElderCard.objects.filter(elder=elder, revoked_at__isnull=True).update(revoked_at=timezone.now())
        card = ElderCard.objects.create(
            elder=elder,
            token_hash=_digest(f"token:{token}"),
            pin_hash=_digest(f"pin:{elder.pk}:{pin}"),
            issued_by=_actor(actor),
        )
    return IssuedCard(card, token, pin)


def _code_matches(elder: Resident, code: str) -> bool:
    card = ElderCard.objects.filter(elder=elder, revoked_at__isnull=True).first()
    if card is None:
        raise NoCard()
    code = (code or "").strip()
    if code.isdigit() and len(code) == 6:
        return hmac.compare_digest(card.pin_hash, _digest(f"pin:{elder.pk}:{code}"))
    return hmac.compare_digest(card.token_hash, _digest(f"token:{code}"))


# --------------------------------------------------------------------------------------------- on site


def _check_position(need: Need, lat: float | None, lon: float | None) -> None:
    if lat is None and lon is None:
        return
    if not valid_coordinates(lat, lon):
        from timebank.places.errors import BadCoordinates

        raise BadCoordinates(field="lat")
    assert lat is not None and lon is not None
    limit = int(policy_value("care.checkin_max_distance_m"))
    distance = haversine_m(need.lat, need.lon, lat, lon)
    if distance > limit:
        raise TooFar(field="lat", distance=int(distance), limit=limit)


def _verify_code(visit: Visit, code: str) -> None:
    limit = int(policy_value("care.code_max_failures"))
    failures = Visit.objects.filter(pk=visit.pk).values_list("code_failures", flat=True).get()
    if failures >= limit:
        raise TooManyCodeAttempts()
    if not _code_matches(visit.need.elder, code):
        with transaction.atomic():  # counted in the row (F), so stale copies and parallel tries all count
            Visit.objects.filter(pk=visit.pk).update(code_failures=F("code_failures") + 1)
        visit.code_failures = failures + 1
        raise WrongCode(field="code")


def visit_check_in(
    *,
    actor: User,
    visit: Visit,
    code: str = "",
    lat: float | None = None,
    lon: float | None = None,
    at: dt.datetime | None = None,
) -> Visit:
    """The volunteer arrives: QR token or PIN from the elder's card, position checked when given.

    Station staff may check a volunteer in for an elder without a card (``code`` not needed).
    """
    moment = at or timezone.now()
    by_station = actor.resident_id != visit.volunteer_id
    if by_station and not can_manage_resident(actor, visit.need.elder):
        raise NotYourVisit()
    need = visit.need
    if visit.status != VS.ASSIGNED:
        raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
    if not need.window_start - dt.timedelta(hours=1) <= moment <= need.window_end:
        raise OutsideWindow(field="at")
    if not by_station:
        _verify_code(visit, code)
        _check_position(need, lat, lon)
    with transaction.atomic():
        Resident.objects.select_for_update().get(pk=visit.volunteer_id)
        visit = Visit.objects.select_for_update().select_related("need").get(pk=visit.pk)
        if Visit.objects.filter(volunteer_id=visit.volunteer_id, status=VS.CHECKED_IN).exclude(pk=visit.pk).exists():
            raise ImplausibleTime(reason=_("the volunteer is still checked in at another visit"))
        if (
            Visit.objects.filter(volunteer_id=visit.volunteer_id, check_in_at__lte=moment, check_out_at__gt=moment)
            .exclude(pk=visit.pk)
            .exists()
        ):  # otherwise the visit could never be checked out (every check-out would overlap)
            raise ImplausibleTime(field="at", reason=_("it overlaps another visit of the same volunteer"))
        _move_visit(visit, VS.CHECKED_IN, actor=actor, note="station" if by_station else "")
        visit.check_in_at = moment
        visit.check_in_method = "station" if by_station else ("pin" if code.strip().isdigit() else "qr")
        visit.check_in_lat, visit.check_in_lon = lat, lon
        visit.save(update_fields=["status", "check_in_at", "check_in_method", "check_in_lat", "check_in_lon"])
    return visit


def visit_check_out(
    *,
    actor: User,
    visit: Visit,
    lat: float | None = None,
    lon: float | None = None,
    at: dt.datetime | None = None,
) -> Visit:
    """The volunteer leaves. Refused when the times are not plausible (see the policies ``care.*``)."""
    moment = at or timezone.now()
    by_station = actor.resident_id != visit.volunteer_id
    if by_station and not can_manage_resident(actor, visit.need.elder):
        raise NotYourVisit()
    if visit.status != VS.CHECKED_IN or visit.check_in_at is None:
        raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
    if moment <= visit.check_in_at:
        raise ImplausibleTime(field="at", reason=_("check-out must come after check-in"))
    if not by_station:
        _check_position(visit.need, lat, lon)
    minutes = int((moment - visit.check_in_at).total_seconds() // 60)
    if minutes < 1:
        raise ImplausibleTime(field="at", reason=_("the visit lasted less than a minute"))
    day_limit = int(policy_value("care.max_minutes_per_day"))
    with transaction.atomic():
        Resident.objects.select_for_update().get(pk=visit.volunteer_id)
        visit = Visit.objects.select_for_update().select_related("need").get(pk=visit.pk)
        overlapping = Visit.objects.filter(
            volunteer_id=visit.volunteer_id, check_in_at__lt=moment, check_out_at__gt=visit.check_in_at
        ).exclude(pk=visit.pk)
        if overlapping.exists():
            raise ImplausibleTime(field="at", reason=_("it overlaps another visit of the same volunteer"))
        day = timezone.localtime(visit.check_in_at).date()
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        from django.db.models import Sum

        served = (
            Visit.objects.filter(
                volunteer_id=visit.volunteer_id,
                check_in_at__gte=start,
                check_in_at__lt=start + dt.timedelta(days=1),
                actual_minutes__isnull=False,
            )
            .exclude(pk=visit.pk)
            .aggregate(s=Sum("actual_minutes"))["s"]
            or 0
        )
        if served + minutes > day_limit:
            raise ImplausibleTime(
                field="at", reason=_("more than %(h)s hours of service in one day") % {"h": day_limit // 60}
            )
        _move_visit(visit, VS.CHECKED_OUT, actor=actor)
        visit.check_out_at = moment
        visit.actual_minutes = minutes
        visit.save(update_fields=["status", "check_out_at", "actual_minutes"])
    return visit


# --------------------------------------------------------------------------------------------- confirmation


def _confirmer(actor: User, visit: Visit) -> str:
    if actor.resident_id is not None and actor.resident_id == visit.volunteer_id:
        raise CannotConfirm()  # even as the elder's proxy or as station staff
    try:
        return _via(actor, visit.need.elder)
    except NotTheirElder:
        raise CannotConfirm() from None


def _not_enough(elder: Resident, minutes: int) -> NotEnoughHours:
    return NotEnoughHours(
        name=elder.name,
        available=ledger_selectors.hours(max(ledger_selectors.resident_balance(elder).available, 0)),
        needed=ledger_selectors.hours(minutes),
    )


def _payer_now(need: Need, minutes: int) -> tuple[str, str]:
    """Who pays at confirmation. A priority elder's visit falls back to the government when the public pool
    has too few hours (DOMAIN.md: "paid for from the public pool or the government budget")."""
    if need.payer == Need.Payer.POOL:
        pool = ledger.system_account("pool")
        if ledger_selectors.balance(pool).available < minutes:
            return Need.Payer.GOVERNMENT, "; the public pool was short, the government paid"
    return need.payer, ""


def visit_confirm(*, actor: User, visit: Visit) -> Visit:
    """The elder, a proxy or the station confirms: exactly one transfer pays the volunteer.

    Pressing confirm twice, or two people confirming at once, posts once: the visit row is locked and
    the ledger key is the visit's; a second confirmation returns the confirmed visit unchanged.
    """
    via = _confirmer(actor, visit)
    with transaction.atomic():
        # The visit and its need are locked (the need moves to "done" below); the elder, the volunteer and the
        # catalogue rows are only read: locking them would queue every confirmation of the same item.
        visit = (
            Visit.objects.select_for_update(of=("self", "need"))
            .select_related("need__elder", "need__item", "need__item_version", "need__region", "volunteer")
            .get(pk=visit.pk)
        )
        if visit.status in (VS.CONFIRMED, VS.RATED):  # pressed again: it is done, nothing more happens
            return visit
        if visit.status != VS.CHECKED_OUT or visit.actual_minutes is None:
            raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
        need = visit.need
        minutes = ledger.credited_minutes(visit.actual_minutes, need.item_version.coefficient)
        payer, note = _payer_now(need, minutes)

        def pay(payer: str) -> ledger.Credit:
            return ledger.service_credit(
                key=f"visit-{visit.pk}-credit",
                volunteer=visit.volunteer,
                payer=payer,
                elder=need.elder,
                minutes=minutes,
                actor=actor,
                memo=need.item.name,
                place=need.region,
                ref=f"visit:{visit.pk}",
            )

        try:
            credit = pay(payer)
        except InsufficientBalance:
            if payer != Need.Payer.POOL:
                raise _not_enough(need.elder, minutes) from None
            # The pool emptied between the look and the payment (the ledger locks it; we do not).
            payer, note = Need.Payer.GOVERNMENT, "; the public pool was short, the government paid"
            credit = pay(payer)
        _move_visit(visit, VS.CONFIRMED, actor=actor, note=f"via {via}{note}")
        visit.credited_minutes = minutes
        visit.confirmed_by = actor
        visit.confirmed_via = via
        visit.confirmed_at = timezone.now()
        visit.transfer = credit.transfer or credit.overflow
        visit.save(
            update_fields=["status", "credited_minutes", "confirmed_by", "confirmed_via", "confirmed_at", "transfer"]
        )
        webhook_events.visit_confirmed(visit)  # sent to partner systems on commit
        _move_need(need, NS.DONE, actor=actor)  # locked with the visit above
        need.save(update_fields=["status"])
    return visit


def visit_dispute(*, actor: User, visit: Visit, complaint: str) -> Dispute:
    """Instead of confirming, the elder's side complains: the hours are held until a social worker decides."""
    via = _confirmer(actor, visit)
    if not complaint.strip():
        raise ReasonRequired(field="complaint")
    with transaction.atomic():
        visit = (
            Visit.objects.select_for_update()
            .select_related("need__elder", "need__item_version", "volunteer")
            .get(pk=visit.pk)
        )
        if visit.status != VS.CHECKED_OUT or visit.actual_minutes is None:
            raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
        need = visit.need
        minutes = ledger.credited_minutes(visit.actual_minutes, need.item_version.coefficient)
        try:
            held = ledger.service_credit(
                key=f"visit-{visit.pk}-hold",
                volunteer=visit.volunteer,
                payer=_payer_now(need, minutes)[0],
                elder=need.elder,
                minutes=minutes,
                actor=actor,
                memo=need.item.name,
                place=need.region,
                ref=f"visit:{visit.pk}",
                hold=True,
            )
        except InsufficientBalance:
            raise _not_enough(need.elder, minutes) from None
        _move_visit(visit, VS.DISPUTED, actor=actor, note=f"via {via}: {complaint}")
        visit.credited_minutes = minutes
        visit.hold = held.transfer
        visit.save(update_fields=["status", "credited_minutes", "hold"])
        return Dispute.objects.create(visit=visit, opened_by=actor, complaint=complaint.strip())


def dispute_resolve(*, actor: User, dispute: Dispute, outcome: str, reason: str, minutes: int | None = None) -> Dispute:
    """A social worker decides: pay in full ("post"), in part ("part", ``minutes``) or not at all ("void")."""
    visit = dispute.visit
    if not can_manage_resident(actor, visit.need.elder) or actor.resident_id in (
        visit.volunteer_id,
        visit.need.elder_id,
    ):
        raise OutOfScope()
    if not reason.strip():
        raise ReasonRequired(field="reason")
    if outcome not in Dispute.Outcome.values:
        raise BadPreference(field="outcome", value=outcome)
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
        visit = Visit.objects.select_for_update(of=("self",)).select_related("hold", "need").get(pk=dispute.visit_id)
        if dispute.outcome or visit.status != VS.DISPUTED or visit.hold is None:
            raise IllegalTransition(thing=_("visit"), status=Visit.Status(visit.status).label)
        key = f"visit-{visit.pk}-resolve"
        held = visit.hold.amount
        if outcome == Dispute.Outcome.PART and (
            isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes < held
        ):  # None would pay in full, the full amount is "post", 0 is "void"
            raise BadPartPayment(field="minutes", held=held)
        if outcome == Dispute.Outcome.VOID:
            ledger.hold_void(key=key, pending=visit.hold, actor=actor, reason=reason)
            paid = 0
            _move_visit(visit, VS.VOIDED, actor=actor, note=reason)
        else:
            amount = None if outcome == Dispute.Outcome.POST else minutes
            credit = ledger.hold_post(key=key, pending=visit.hold, minutes=amount, actor=actor, reason=reason)
            paid = credit.minutes
            visit.transfer = credit.transfer or credit.overflow
            visit.credited_minutes = paid
            _move_visit(visit, VS.CONFIRMED, actor=actor, note=reason)
            visit.confirmed_by, visit.confirmed_via, visit.confirmed_at = actor, "station", timezone.now()
        visit.save(
            update_fields=["status", "transfer", "credited_minutes", "confirmed_by", "confirmed_via", "confirmed_at"]
        )
        need = Need.objects.select_for_update().get(pk=visit.need_id)
        if need.status == NS.ASSIGNED:
            _move_need(need, NS.DONE, actor=actor, note=outcome)
            need.save(update_fields=["status"])
        dispute.outcome, dispute.minutes_paid, dispute.resolution = outcome, paid, reason.strip()
        dispute.resolved_by, dispute.resolved_at = actor, timezone.now()
        dispute.save(update_fields=["outcome", "minutes_paid", "resolution", "resolved_by", "resolved_at"])
    return dispute


# --------------------------------------------------------------------------------------------- ratings


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
        if visit.status not in (VS.CONFIRMED, VS.RATED, VS.VOIDED):
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


# --------------------------------------------------------------------------------------------- guarantee


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
