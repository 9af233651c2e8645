"""Reads: recorded service, star levels, bars, the honour roll and the rewards a person holds or may claim.

Recorded service (what star levels count) is the service history, not the balance:

* every confirmed or rated visit counts its full credited minutes (``Visit.credited_minutes``: after a
  complaint, what the social worker decided to pay), even when the balance cap sent part or all of the
  hours to the public pool, and whoever paid (the elder's own hours, the pool, the government);
* every other service credit in the ledger into the person's personal or group-earned account counts its
  amount: group-event hours (``group_credit``), imported past records, credits posted without a visit;
* a record whose ledger transfer was reversed (a correction), or that was marked falsified, does not count.

Transfers to family, donations, redemptions of one's own hours and expiry never lower it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.care.card_pdf import COMPOUND_SURNAMES
from timebank.care.models import Visit
from timebank.common.selectors import policy_value
from timebank.ledger.models import Account, Batch, Transfer
from timebank.ledger.selectors import hours
from timebank.people.models import Resident, StaffRole, User
from timebank.people.selectors import active_roles, residents_visible_to
from timebank.places.models import Region
from timebank.teams.models import EventSheet, Team

from .models import Bar, Entitlement, Falsification, Honour, RewardKind, StarLevelReached

VS = Visit.Status
#: Visits whose hours were paid (in full or in the part a social worker decided after a complaint).
PAID_VISIT = (VS.CONFIRMED, VS.RATED)
#: Ledger kinds that record service given by the credited person.
SERVICE_KINDS = (Transfer.Kind.SERVICE_CREDIT, Transfer.Kind.REDEMPTION, Transfer.Kind.GROUP_CREDIT)
POSTED = (Transfer.Phase.POSTED, Transfer.Phase.POST)
OWN_ACCOUNTS = (Account.Kind.PERSONAL, Account.Kind.GROUP_EARNED)


# --------------------------------------------------------------------------------------------- recorded service


def counted_visits() -> QuerySet[Visit]:
    """Paid visits that still count: not falsified, their payment not reversed."""
    return Visit.objects.filter(status__in=PAID_VISIT, credited_minutes__gt=0, falsification__isnull=True).filter(
        Q(transfer__isnull=True) | Q(transfer__reversal__isnull=True)
    )


def counted_credits() -> QuerySet[Transfer]:
    """Service credits in the ledger that belong to no visit (group events, imports), not reversed or falsified."""
    return (
        Transfer.objects.filter(
            credit_account__kind__in=OWN_ACCOUNTS,
            kind__in=SERVICE_KINDS,
            phase__in=POSTED,
            visit__isnull=True,
            reversal__isnull=True,
            falsification__isnull=True,
        )
        .filter(Q(batch__isnull=True) | Q(batch__falsification__isnull=True))
        .exclude(ref__startswith="visit:")
    )


def service_minutes_of(resident_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Recorded service minutes per resident id (two grouped queries; all residents when ``None``)."""
    visits = counted_visits()
    credits = counted_credits()
    if resident_ids is not None:
        ids = list(resident_ids)
        visits = visits.filter(volunteer_id__in=ids)
        credits = credits.filter(credit_account__resident_id__in=ids)
    totals: dict[int, int] = defaultdict(int)
    for pk, s in (
        visits.order_by().values("volunteer_id").annotate(s=Sum("credited_minutes")).values_list("volunteer_id", "s")
    ):
        totals[pk] += int(s or 0)
    rows = credits.order_by().values("credit_account__resident_id").annotate(s=Sum("amount"))
    for pk, s in rows.values_list("credit_account__resident_id", "s"):
        totals[pk] += int(s or 0)
    return dict(totals)


def service_minutes(resident: Resident) -> int:
    """Minutes of recorded service of one person (see the module docstring for what counts)."""
    return service_minutes_of([resident.pk]).get(resident.pk, 0)


def service_events(resident: Resident) -> list[tuple[dt.date, int]]:
    """The counted records of one person as (day, minutes), oldest first: when each level was crossed."""
    events: list[tuple[dt.date, int]] = []
    for confirmed, out, minutes in (
        counted_visits().filter(volunteer=resident).values_list("confirmed_at", "check_out_at", "credited_minutes")
    ):
        moment = confirmed or out
        if moment is not None:
            events.append((timezone.localdate(moment), int(minutes or 0)))
    for created, amount in (
        counted_credits().filter(credit_account__resident=resident).values_list("created_at", "amount")
    ):
        events.append((timezone.localdate(created), int(amount)))
    return sorted(events)


# --------------------------------------------------------------------------------------------- bars


def active_bar(resident: Resident, *, on: dt.date | None = None) -> Bar | None:
    """The bar in force on ``on`` (today) that ends last, or None."""
    day = on or timezone.localdate()
    return Bar.objects.filter(person=resident, starts_on__lte=day, ends_on__gt=day).order_by("-ends_on").first()


def team_active_bar(team: Team, *, on: dt.date | None = None) -> Bar | None:
    day = on or timezone.localdate()
    return Bar.objects.filter(team=team, starts_on__lte=day, ends_on__gt=day).order_by("-ends_on").first()


def barred_ids(*, on: dt.date | None = None) -> set[int]:
    day = on or timezone.localdate()
    rows = Bar.objects.filter(starts_on__lte=day, ends_on__gt=day, person__isnull=False)
    return {pk for pk in rows.values_list("person_id", flat=True) if pk is not None}


def teams_in_area(user: User) -> QuerySet[Team]:
    """Teams whose area lies in the area of one of ``user``'s town-administrator or supervisor roles."""
    qs = Team.objects.select_related("organisation", "region")
    if user.is_superuser:
        return qs
    q = Q(pk__in=[])
    for role in active_roles(user):
        if role.role in (StaffRole.Role.TOWN_ADMIN, StaffRole.Role.CITY_SUPERVISOR):
            q |= Q(region__path__startswith=role.region.path)
    return qs.filter(q)


def bars_visible_to(user: User) -> QuerySet[Bar]:
    return Bar.objects.filter(
        Q(person__in=residents_visible_to(user).values("pk")) | Q(team__in=teams_in_area(user).values("pk"))
    ).select_related("person__home_region", "team__region", "falsification", "created_by")


# --------------------------------------------------------------------------------------------- star levels


def thresholds(*, on: dt.date | None = None) -> tuple[int, ...]:
    return tuple(int(h) for h in policy_value("rewards.star_thresholds_hours", on=on))


def stars_for(minutes: int, limits: tuple[int, ...]) -> int:
    return sum(1 for h in limits if minutes >= h * 60)


@dataclass(frozen=True)
class StarLevel:
    """A volunteer's star level (星级志愿者) and the way to the next one; suspended while a bar is in force."""

    stars: int  # 0 to 5, from the recorded service
    minutes: int  # recorded service
    thresholds_hours: tuple[int, ...]  # policy ``rewards.star_thresholds_hours``
    bar: Bar | None = None

    @property
    def suspended(self) -> bool:
        return self.bar is not None

    @property
    def suspended_until(self) -> dt.date | None:
        return self.bar.ends_on if self.bar else None

    @property
    def effective_stars(self) -> int:
        """What the level is worth today: 0 while barred (for exports, honours and rewards)."""
        return 0 if self.bar else self.stars

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)

    @property
    def next_stars(self) -> int | None:
        return self.stars + 1 if self.stars < len(self.thresholds_hours) else None

    @property
    def next_hours(self) -> int | None:
        return self.thresholds_hours[self.stars] if self.next_stars else None

    @property
    def missing_hours(self) -> Decimal:
        return hours(max(0, self.next_hours * 60 - self.minutes)) if self.next_hours else Decimal(0)

    @property
    def percent(self) -> int:
        """Progress from the current level's threshold to the next one, 0–100."""
        if self.next_hours is None:
            return 100
        low = self.thresholds_hours[self.stars - 1] * 60 if self.stars else 0
        return max(0, min(100, (self.minutes - low) * 100 // (self.next_hours * 60 - low)))


def star_level(resident: Resident, *, on: dt.date | None = None) -> StarLevel:
    """Star level from recorded service and the thresholds in force, with the bar in force (if any)."""
    limits = thresholds(on=on)
    minutes = service_minutes(resident)
    return StarLevel(stars_for(minutes, limits), minutes, limits, active_bar(resident, on=on))


def levels_reached(resident: Resident) -> list[StarLevelReached]:
    return list(StarLevelReached.objects.filter(person=resident, voided_at__isnull=True).order_by("level"))


# --------------------------------------------------------------------------------------------- falsification


@dataclass(frozen=True)
class ReverseLine:
    transfer: Transfer
    back_to: str  # who gets the hours back
    possible: bool  # the holder still has them (otherwise they stay where they are)
    taken_from: str = ""  # who holds them now


@dataclass
class FalsificationPlan:
    """What recording a falsification will do: the person barred, minutes off the record, transfers reversed."""

    person: Resident | None
    minutes: int
    lines: list[ReverseLine] = field(default_factory=list)
    visit: Visit | None = None
    transfer: Transfer | None = None
    team: Team | None = None
    batch: Batch | None = None

    @property
    def reversible_minutes(self) -> int:
        return sum(line.transfer.amount for line in self.lines if line.possible)

    @property
    def stuck_minutes(self) -> int:
        return sum(line.transfer.amount for line in self.lines if not line.possible)


def _holder_name(account: Account) -> str:
    if account.resident is not None:
        return account.resident.name
    return {
        Account.Kind.POOL: _("the public time pool"),
        Account.Kind.ISSUANCE: _("the city (the hours are cancelled)"),
        Account.Kind.GUARANTEE: _("the government guarantee"),
    }.get(Account.Kind(account.kind), account.name)


def _line(t: Transfer) -> ReverseLine:
    holder = Account.objects.get(pk=t.credit_account_id)
    possible = (
        holder.status == Account.Status.OPEN
        and (not holder.no_overdraw or holder.available_balance >= t.amount)
        and Account.objects.filter(pk=t.debit_account_id, status=Account.Status.OPEN).exists()
    )
    return ReverseLine(t, _holder_name(t.debit_account), possible, _holder_name(holder))


def falsification_plan(*, visit: Visit | None = None, transfer: Transfer | None = None) -> FalsificationPlan:
    """What :func:`timebank.rewards.services.falsification_record` would do (shown on the confirmation page).

    Raises the services' errors for a record that cannot be falsified.
    """
    from .errors import AlreadyFalsified, NotFalsifiable, WhatToFalsify

    if transfer is not None and visit is None:
        linked = Visit.objects.filter(transfer=transfer).first()
        if linked is not None:
            visit, transfer = linked, None
    if (visit is None) == (transfer is None):
        raise WhatToFalsify()
    if visit is not None:
        if Falsification.objects.filter(visit=visit).exists():
            raise AlreadyFalsified()
        if visit.status not in PAID_VISIT:
            reason = (
                _("the complaint about it must be decided first")
                if visit.status == VS.DISPUTED
                else _("its hours were not paid")
            )
            raise NotFalsifiable(field="visit", reason=reason)
        counted = counted_visits().filter(pk=visit.pk).exists()
        originals = Transfer.objects.filter(
            Q(pk=visit.transfer_id) | Q(ref=f"visit:{visit.pk}", kind=Transfer.Kind.CAP_OVERFLOW),
            phase__in=POSTED,
            reversal__isnull=True,
        ).select_related("debit_account__resident", "credit_account__resident")
        return FalsificationPlan(
            visit.volunteer,
            int(visit.credited_minutes or 0) if counted else 0,
            [_line(t) for t in originals.order_by("pk")],
            visit=visit,
        )
    assert transfer is not None
    if Falsification.objects.filter(transfer=transfer).exists():
        raise AlreadyFalsified()
    credit = transfer.credit_account
    if (
        transfer.kind not in SERVICE_KINDS
        or transfer.phase not in POSTED
        or credit.kind not in OWN_ACCOUNTS
        or credit.resident is None
    ):
        raise NotFalsifiable(field="transfer", reason=_("it is not a record of service given"))
    already = Transfer.objects.filter(reverses=transfer).exists()
    return FalsificationPlan(
        credit.resident, 0 if already else transfer.amount, [] if already else [_line(transfer)], transfer=transfer
    )


def team_sheets(team: Team, *, limit: int = 30) -> list[tuple[EventSheet, bool]]:
    """The team's latest posted attendance sheets, each with whether it was marked falsified (one query)."""
    falsified = Falsification.objects.filter(batch=OuterRef("batch"))
    rows = (
        EventSheet.objects.filter(event__team=team)
        .select_related("event", "batch")
        .annotate(falsified=Exists(falsified))
        .order_by("-event__starts_at")[:limit]
    )
    return [(sheet, bool(sheet.falsified)) for sheet in rows]


def team_falsification_plan(batch: Batch) -> FalsificationPlan:
    """What falsifying a team's group event (its attendance sheet's ledger batch) would do."""
    from .errors import AlreadyFalsified, NotFalsifiable

    sheet = EventSheet.objects.filter(batch=batch).select_related("event__team").first()
    if sheet is None or sheet.event.team is None:
        raise NotFalsifiable(field="batch", reason=_("these hours were not recorded for a team's group event"))
    if Falsification.objects.filter(batch=batch).exists():
        raise AlreadyFalsified()
    originals = (
        Transfer.objects.filter(batch=batch, phase__in=POSTED, reversal__isnull=True)
        .select_related("debit_account__resident", "credit_account__resident")
        .order_by("pk")
    )
    counted = counted_credits().filter(batch=batch).aggregate(s=Sum("amount"))["s"] or 0
    return FalsificationPlan(None, int(counted), [_line(t) for t in originals], team=sheet.event.team, batch=batch)


# --------------------------------------------------------------------------------------------- the honour roll


def roll_name(name: str) -> str:
    """A name as public volunteer rolls show it: surname, masked given name, its last character kept.

    张小明 → 张*明, 张明 → 张*, 欧阳娜娜 → 欧阳*娜. No ID number, phone or address is ever shown.
    """
    name = (name or "").strip()
    if not name:
        return "*"
    keep = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
    given = name[keep:]
    if len(given) <= 1:
        return name[:keep] + "*"
    return name[:keep] + "*" * (len(given) - 1) + given[-1]


def town_of(region: Region) -> Region:
    """The town or street (镇街) a region lies in (the region itself if it is one; the city stays the city)."""
    codes = region.path.strip("/").split("/")
    if region.level != Region.Level.COMMUNITY or len(codes) < 2:
        return region
    return Region.objects.get(code=codes[1])


@dataclass(frozen=True)
class TownRow:
    town: Region
    honours: int
    stars: int


def honour_towns(*, year: int | None = None) -> list[TownRow]:
    """Every town with its live honours (all years) and the people who reached 3★+ in ``year``."""
    year = year or timezone.localdate().year
    towns = list(Region.objects.filter(level=Region.Level.TOWN).order_by("code"))
    honours = dict(
        Honour.objects.filter(withdrawn_at__isnull=True)
        .values_list("town")
        .annotate(n=Count("pk"))
        .values_list("town", "n")
    )
    stars: dict[int, set[int]] = defaultdict(set)
    by_path = {t.path: t.pk for t in towns}
    for person_id, path in _stars_this_year(year).values_list("person_id", "person__home_region__path"):
        parts = path.split("/")
        town_path = "/".join(parts[:2]) + "/"
        if town_path in by_path:
            stars[by_path[town_path]].add(person_id)
    return [TownRow(t, honours.get(t.pk, 0), len(stars[t.pk])) for t in towns]


def _stars_this_year(year: int) -> QuerySet[StarLevelReached]:
    return StarLevelReached.objects.filter(voided_at__isnull=True, level__gte=3, reached_on__year=year).exclude(
        person_id__in=barred_ids()
    )


@dataclass(frozen=True)
class RollHonour:
    year: int
    title: str
    kind: str
    name: str
    community: str
    citation: str


def _roll_subject(honour: Honour) -> tuple[str, str]:
    """(name, place) on the public roll: a volunteer's name masked, a team's name in full."""
    if honour.person is not None:
        return roll_name(honour.person.name), honour.person.home_region.name
    assert honour.team is not None
    return honour.team.name, honour.team.region.name


@dataclass(frozen=True)
class RollStar:
    name: str
    community: str
    stars: int
    reached_on: dt.date


@dataclass
class TownRoll:
    town: Region
    year: int
    honours: list[RollHonour]
    stars: list[RollStar]


def town_roll(town: Region, *, year: int | None = None) -> TownRoll:
    """The public honour roll of a town: live honours (newest year first) and who reached 3★+ in ``year``."""
    year = year or timezone.localdate().year
    honours = [
        RollHonour(h.year, h.title, h.get_kind_display(), *_roll_subject(h), h.citation)
        for h in Honour.objects.filter(town=town, withdrawn_at__isnull=True)
        .select_related("person__home_region", "team__region")
        .order_by("-year", "kind", "pk")[:300]
    ]
    best: dict[int, StarLevelReached] = {}
    rows = (
        _stars_this_year(year)
        .filter(person__home_region__path__startswith=town.path)
        .select_related("person__home_region")
    )
    for row in rows:
        if row.person_id not in best or row.level > best[row.person_id].level:
            best[row.person_id] = row
    stars = sorted(
        (RollStar(roll_name(r.person.name), r.person.home_region.name, r.level, r.reached_on) for r in best.values()),
        key=lambda s: (-s.stars, s.reached_on, s.name),
    )
    return TownRoll(town, year, honours, stars)


# --------------------------------------------------------------------------------------------- rewards


def entitlements_of(resident: Resident) -> list[Entitlement]:
    return list(Entitlement.objects.filter(resident=resident, revoked_at__isnull=True).select_related("kind"))


def claimable_kinds(resident: Resident, level: StarLevel | None = None) -> list[RewardKind]:
    """Rewards offered at the person's star level that they do not hold yet (none while barred)."""
    level = level or star_level(resident)
    if level.suspended or not level.stars:
        return []
    held = Entitlement.objects.filter(resident=resident, revoked_at__isnull=True).values("kind_id")
    return list(RewardKind.objects.filter(active=True, min_stars__lte=level.stars).exclude(pk__in=held))


def entitlements_visible_to(user: User) -> QuerySet[Entitlement]:
    """Entitlements of the residents ``user`` may see (care-home staff look priority admission up here)."""
    return Entitlement.objects.filter(resident__in=residents_visible_to(user).values("pk")).select_related(
        "resident__home_region", "kind", "granted_by"
    )


def honours_visible_to(user: User) -> QuerySet[Honour]:
    return Honour.objects.filter(
        Q(person__in=residents_visible_to(user).values("pk")) | Q(team__in=teams_in_area(user).values("pk"))
    ).select_related("person__home_region", "team__region", "town", "granted_by")


def is_rewards_staff(user: User) -> bool:
    """Town administrators and city supervisors (and superusers) grant honours and record falsification."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(r.role in (StaffRole.Role.TOWN_ADMIN, StaffRole.Role.CITY_SUPERVISOR) for r in active_roles(user))


@dataclass(frozen=True)
class ServiceRecords:
    """The latest records that count for a person's stars (what staff may mark as falsified)."""

    visits: list[Visit]
    credits: list[Transfer]


def service_records(resident: Resident, *, limit: int = 30) -> ServiceRecords:
    visits = list(
        counted_visits()
        .filter(volunteer=resident)
        .select_related("need__item", "need__elder", "need__region")
        .order_by("-confirmed_at", "-pk")[:limit]
    )
    credits = list(
        counted_credits().filter(credit_account__resident=resident).select_related("place").order_by("-pk")[:limit]
    )
    return ServiceRecords(visits, credits)
