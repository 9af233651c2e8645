"""Every write of star levels, falsification bars, honours and non-cash rewards.

Each function checks the actor (town administrators and city supervisors, in their area), the input and
the bar before it writes, and writes in one transaction. Hours move only in :func:`falsification_record`,
and only through :func:`timebank.ledger.services.transfer_reverse`; rewards never touch the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from timebank.care.models import Visit
from timebank.common.errors import NotAllowed, OutOfScope
from timebank.common.selectors import policy_value
from timebank.ledger import services as ledger
from timebank.ledger.errors import AccountNotOpen, InsufficientBalance
from timebank.ledger.models import Batch, Transfer
from timebank.people.models import Resident, StaffRole
from timebank.people.selectors import active_roles, is_city_supervisor
from timebank.places.models import Region
from timebank.teams.models import Team

from . import selectors
from .errors import (
    AlreadyEntitled,
    AlreadyFalsified,
    AlreadyWithdrawn,
    BadHonourKind,
    BadRewardKind,
    BadYear,
    Barred,
    BelowStarLevel,
    DuplicateHonour,
    HonourSubject,
    NotAVolunteer,
    ReasonRequired,
    RewardInactive,
    StarLevelNotByHand,
    TeamInactive,
    TitleRequired,
)
from .models import Bar, Entitlement, Falsification, Honour, RewardKind, StarLevelReached

if TYPE_CHECKING:
    from timebank.people.models import User

AREA_ROLES = (StaffRole.Role.TOWN_ADMIN, StaffRole.Role.CITY_SUPERVISOR)


def _check_area_region(actor: User, region: Region) -> None:
    """Town administrators and city supervisors whose area holds ``region`` (and superusers)."""
    if actor.is_superuser:
        return
    roles = [r for r in active_roles(actor) if r.role in AREA_ROLES]
    if not roles:
        raise NotAllowed()
    if not any(region.path.startswith(r.region.path) for r in roles):
        raise OutOfScope()


def _check_area_staff(actor: User, resident: Resident) -> None:
    """Town administrators and city supervisors whose area holds ``resident``'s home (and superusers)."""
    _check_area_region(actor, resident.home_region)


def _check_not_barred(resident: Resident, day: dt.date | None = None) -> None:
    bar = selectors.active_bar(resident, on=day)
    if bar is not None:
        raise Barred(name=resident.name, until=bar.ends_on.isoformat())


def _reason(reason: str, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired(field=field)
    return text


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


# --------------------------------------------------------------------------------------------- star levels


def star_level_award(*, actor: User, resident: Resident, stars: int) -> None:
    """Refuse, always: a star level is counted from recorded service, never set by hand.

    This is the one answer for every path that asks to award stars (the API, a form, a script), so they all
    give the same coded error and write nothing. To change a level, record (or correct) the service.
    """
    raise StarLevelNotByHand(field="stars")


def _crossing_day(events: list[tuple[dt.date, int]], minutes: int) -> dt.date | None:
    total = 0
    for day, amount in events:
        total += amount
        if total >= minutes:
            return day
    return None


def _after_bars(resident: Resident, day: dt.date) -> dt.date:
    """A level crossed while a bar was in force counts from the day the bar ended."""
    for bar in Bar.objects.filter(person=resident).order_by("starts_on"):
        if bar.starts_on <= day < bar.ends_on:
            day = bar.ends_on
    return day


def star_levels_record(*, residents: Iterable[Resident] | None = None, on: dt.date | None = None) -> int:
    """Recompute star levels from the service history and record each level newly reached (with the day it
    was crossed). Levels the history no longer supports (a correction, a falsification) are voided.

    Barred people get no new level while the bar is in force; their levels are recorded after it ends.
    Runs daily (Celery task ``rewards.record_star_levels``) and on demand. Returns the rows written.
    """
    day = on or timezone.localdate()
    limits = selectors.thresholds(on=day)
    ids = None if residents is None else [r.pk for r in residents]
    minutes = selectors.service_minutes_of(ids)
    live_qs = StarLevelReached.objects.filter(voided_at__isnull=True)
    if ids is not None:
        live_qs = live_qs.filter(person_id__in=ids)
    live: dict[int, set[int]] = {}
    for person_id, level in live_qs.values_list("person_id", "level"):
        live.setdefault(person_id, set()).add(level)
    barred = selectors.barred_ids(on=day)
    written = 0
    with transaction.atomic():
        for person_id in sorted(set(minutes) | set(live)):
            stars = selectors.stars_for(minutes.get(person_id, 0), limits)
            have = live.get(person_id, set())
            too_high = [lvl for lvl in have if lvl > stars]
            if too_high:
                written += StarLevelReached.objects.filter(
                    person_id=person_id, level__in=too_high, voided_at__isnull=True
                ).update(voided_at=timezone.now(), void_reason="recorded service corrected below this level")
            missing = [lvl for lvl in range(1, stars + 1) if lvl not in have]
            if not missing or person_id in barred:
                continue
            person = Resident.objects.get(pk=person_id)
            events = selectors.service_events(person)
            for level in missing:
                crossed = _crossing_day(events, limits[level - 1] * 60) or day
                StarLevelReached.objects.create(
                    person=person,
                    level=level,
                    reached_on=min(_after_bars(person, crossed), day),
                    minutes=minutes.get(person_id, 0),
                )
                written += 1
    return written


# --------------------------------------------------------------------------------------------- falsification


def falsification_record(
    *,
    actor: User,
    reason: str,
    visit: Visit | None = None,
    transfer: Transfer | None = None,
    on: dt.date | None = None,
) -> Falsification:
    """A service record was falsified: reverse its hours and bar the person for the years of the policy
    ``rewards.falsification_bar_years``.

    The hours go back to whoever paid (an elder who paid with their own hours gets them back; the pool or
    the city otherwise), through ``ledger.transfer_reverse``. Hours the volunteer no longer holds (already
    given to family or donated) cannot be taken back: they are counted as ``unreversed_minutes`` and the
    record still stops counting. Town administrators and city supervisors of the volunteer's area only.
    """
    text = _reason(reason)
    plan = selectors.falsification_plan(visit=visit, transfer=transfer)
    person = plan.person
    assert person is not None  # a visit or a transfer always names the volunteer
    _check_area_staff(actor, person)
    day = on or timezone.localdate()
    years = int(policy_value("rewards.falsification_bar_years", on=day))
    with transaction.atomic():
        Resident.objects.select_for_update().get(pk=person.pk)
        if plan.visit is not None:
            Visit.objects.select_for_update().get(pk=plan.visit.pk)
            if Falsification.objects.filter(visit=plan.visit).exists():
                raise AlreadyFalsified()
        elif Falsification.objects.filter(transfer=plan.transfer).exists():
            raise AlreadyFalsified()
        what = (
            f"visit-{plan.visit.pk}"
            if plan.visit is not None
            else f"transfer-{plan.transfer.pk if plan.transfer else 0}"
        )
        done, stuck = _reverse(plan, what, actor, text)
        record = Falsification.objects.create(
            person=person,
            visit=plan.visit,
            transfer=plan.transfer,
            minutes=plan.minutes,
            reversed_minutes=done,
            unreversed_minutes=stuck,
            reason=text,
            recorded_by=actor,
        )
        Bar.objects.create(
            person=person,
            falsification=record,
            years=years,
            starts_on=day,
            ends_on=add_years(day, years),
            reason=text,
            created_by=actor,
        )
        star_levels_record(residents=[person], on=day)  # voids levels the history no longer supports
    return record


def _reverse(plan: selectors.FalsificationPlan, what: str, actor: User, reason: str) -> tuple[int, int]:
    """Reverse each transfer of the plan through the ledger; hours no longer held stay where they are.

    Returns (minutes moved back, minutes that could not be moved back)."""
    done = stuck = 0
    memo = _("Falsified record: %(reason)s") % {"reason": reason}
    for line in plan.lines:
        try:
            with transaction.atomic():
                ledger.transfer_reverse(
                    key=f"falsify:{what}:{line.transfer.pk}", original=line.transfer, actor=actor, reason=memo
                )
            done += line.transfer.amount
        except (InsufficientBalance, AccountNotOpen):
            stuck += line.transfer.amount
    return done, stuck


def team_falsification_record(*, actor: User, batch: Batch, reason: str, on: dt.date | None = None) -> Falsification:
    """A team's group event was falsified: every attendee's hours of its sheet are reversed (they stop
    counting for stars) and the TEAM is barred from honours for the policy's years. The attendees are not
    barred (a person is barred by :func:`falsification_record` of their own record)."""
    text = _reason(reason)
    plan = selectors.team_falsification_plan(batch)
    team = plan.team
    assert team is not None
    _check_area_region(actor, team.region)
    day = on or timezone.localdate()
    years = int(policy_value("rewards.falsification_bar_years", on=day))
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=team.pk)
        if Falsification.objects.filter(batch=batch).exists():
            raise AlreadyFalsified()
        done, stuck = _reverse(plan, f"batch-{batch.pk}", actor, text)
        record = Falsification.objects.create(
            team=team,
            batch=batch,
            minutes=plan.minutes,
            reversed_minutes=done,
            unreversed_minutes=stuck,
            reason=text,
            recorded_by=actor,
        )
        Bar.objects.create(
            team=team,
            falsification=record,
            years=years,
            starts_on=day,
            ends_on=add_years(day, years),
            reason=text,
            created_by=actor,
        )
        attendees = Resident.objects.filter(accounts__credits__batch=batch).distinct()
        star_levels_record(residents=list(attendees), on=day)
    return record


# --------------------------------------------------------------------------------------------- honours

#: What someone might type to ask for a star level as an honour: refused, levels are counted.
STAR_WORDS = ("star", "星级", "星志愿")


def _is_star_kind(kind: str) -> bool:
    text = (kind or "").strip().lower()
    return text != Honour.Kind.FIVE_STAR and any(word in text for word in STAR_WORDS)


def honour_grant(
    *,
    actor: User,
    kind: str,
    title: str,
    year: int,
    citation: str,
    person: Resident | None = None,
    team: Team | None = None,
) -> Honour:
    """Grant an honour with its citation; it shows on the public roll of the person's (or team's) town.

    A "five-star volunteer" announcement needs the counted level 5; a star level itself cannot be granted.
    "Outstanding team" names a team; every other kind names a volunteer.
    """
    if _is_star_kind(kind):
        raise StarLevelNotByHand(field="kind")
    if kind not in Honour.Kind.values:
        raise BadHonourKind(field="kind", value=kind)
    if (person is None) == (team is None) or (team is not None) != (kind == Honour.Kind.EXCELLENT_TEAM):
        raise HonourSubject(field="kind")
    if team is not None:
        return _team_honour(actor=actor, team=team, kind=kind, title=title, year=year, citation=citation)
    assert person is not None
    _check_area_staff(actor, person)
    if not person.is_volunteer:
        raise NotAVolunteer(field="person", name=person.name)
    _check_honour_text(title, year, citation)
    today = timezone.localdate()
    _check_not_barred(person, today)
    if kind == Honour.Kind.FIVE_STAR:
        level = selectors.star_level(person)
        if level.stars < 5:
            raise BelowStarLevel(
                field="kind", name=person.name, stars=level.stars, reward=Honour.Kind(kind).label, needed=5
            )
    with transaction.atomic():
        Resident.objects.select_for_update().get(pk=person.pk)
        if Honour.objects.filter(person=person, kind=kind, year=year, withdrawn_at__isnull=True).exists():
            raise DuplicateHonour(field="kind", name=person.name, year=year)
        return Honour.objects.create(
            kind=kind,
            title=title.strip()[:120],
            year=year,
            citation=citation.strip()[:4000],
            person=person,
            town=selectors.town_of(person.home_region),
            granted_by=actor,
        )


def _check_honour_text(title: str, year: int, citation: str) -> None:
    today = timezone.localdate()
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= today.year + 1:
        raise BadYear(field="year")
    if not (title or "").strip():
        raise TitleRequired(field="title")
    if not (citation or "").strip():
        raise TitleRequired(field="citation")


def _team_honour(*, actor: User, team: Team, kind: str, title: str, year: int, citation: str) -> Honour:
    _check_area_region(actor, team.region)
    if not team.active:
        raise TeamInactive(field="team", name=team.name)
    _check_honour_text(title, year, citation)
    bar = selectors.team_active_bar(team)
    if bar is not None:
        raise Barred(name=team.name, until=bar.ends_on.isoformat())
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=team.pk)
        if Honour.objects.filter(team=team, kind=kind, year=year, withdrawn_at__isnull=True).exists():
            raise DuplicateHonour(field="kind", name=team.name, year=year)
        return Honour.objects.create(
            kind=kind,
            title=title.strip()[:120],
            year=year,
            citation=citation.strip()[:4000],
            team=team,
            town=selectors.town_of(team.region),
            granted_by=actor,
        )


def honour_withdraw(*, actor: User, honour: Honour, reason: str) -> Honour:
    """Withdraw an honour (it leaves the public roll); the row and the reason stay."""
    if honour.person is not None:
        _check_area_staff(actor, honour.person)
    else:
        assert honour.team is not None
        _check_area_region(actor, honour.team.region)
    text = _reason(reason)
    with transaction.atomic():
        locked = Honour.objects.select_for_update().get(pk=honour.pk)
        if locked.withdrawn_at is not None:
            raise AlreadyWithdrawn()
        locked.withdrawn_at, locked.withdrawn_by, locked.withdraw_reason = timezone.now(), actor, text
        locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
    return locked


# --------------------------------------------------------------------------------------------- rewards


def reward_kind_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    min_stars: int,
    provider: str,
    description: str = "",
    priority_admission: bool = False,
) -> RewardKind:
    """Offer a new kind of reward (city supervisors; ``actor=None`` is the system). No hours, no money."""
    if actor is not None and not is_city_supervisor(actor):
        raise NotAllowed()
    if not code or slugify(code) != code:
        raise BadRewardKind(field="code", reason=_("the code must be lower-case letters, digits and dashes"))
    if isinstance(min_stars, bool) or not isinstance(min_stars, int) or not 1 <= min_stars <= 5:
        raise BadRewardKind(field="min_stars", reason=_("the minimum star level must be 1 to 5"))
    if not name.strip() or not provider.strip():
        raise BadRewardKind(field="name", reason=_("name and provider are needed"))
    with transaction.atomic():
        if RewardKind.objects.filter(code=code).exists():
            raise BadRewardKind(field="code", reason=_("this code is taken"))
        return RewardKind.objects.create(
            code=code,
            name=name.strip()[:96],
            description=description.strip(),
            min_stars=min_stars,
            provider=provider.strip()[:96],
            priority_admission=priority_admission,
        )


def reward_kind_set_active(*, actor: User, kind: RewardKind, active: bool) -> RewardKind:
    """Stop or resume offering a reward. Entitlements already granted stay until revoked."""
    if not is_city_supervisor(actor):
        raise NotAllowed()
    with transaction.atomic():
        locked = RewardKind.objects.select_for_update().get(pk=kind.pk)
        locked.active = active
        locked.save(update_fields=["active"])
    return locked


def entitlement_grant(*, actor: User, resident: Resident, kind: RewardKind, note: str = "") -> Entitlement:
    """Record a reward for a resident whose counted star level reaches the reward's minimum, not barred.

    Nothing is paid and no hours move: the entitlement is a record staff and partners look up.
    """
    _check_area_staff(actor, resident)
    kind = RewardKind.objects.get(pk=kind.pk)  # as offered now, not as the caller last read it
    if not kind.active:
        raise RewardInactive(field="kind", reward=kind.name)
    _check_not_barred(resident)
    level = selectors.star_level(resident)
    if level.stars < kind.min_stars:
        raise BelowStarLevel(
            field="kind", name=resident.name, stars=level.stars, reward=kind.name, needed=kind.min_stars
        )
    with transaction.atomic():
        Resident.objects.select_for_update().get(pk=resident.pk)
        if Entitlement.objects.filter(resident=resident, kind=kind, revoked_at__isnull=True).exists():
            raise AlreadyEntitled(field="kind", name=resident.name, reward=kind.name)
        return Entitlement.objects.create(
            resident=resident, kind=kind, stars_at_grant=level.stars, note=(note or "").strip()[:200], granted_by=actor
        )


def entitlement_revoke(*, actor: User, entitlement: Entitlement, reason: str) -> Entitlement:
    _check_area_staff(actor, entitlement.resident)
    text = _reason(reason)
    with transaction.atomic():
        locked = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
        if locked.revoked_at is not None:
            raise AlreadyWithdrawn()
        locked.revoked_at, locked.revoked_by, locked.revoke_reason = timezone.now(), actor, text
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return locked
