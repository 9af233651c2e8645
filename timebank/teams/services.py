"""Every write about organisations, teams, projects, competitions and group events.

Each service checks who acts (see :mod:`timebank.teams.selectors` for the scope rules), checks the
input, and writes in one ``transaction.atomic`` block, so a refusal leaves nothing behind. A group
event's attendance sheet is posted through :func:`timebank.ledger.services.group_credit_batch`, once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from timebank.common.errors import NotAllowed
from timebank.common.names import clean_name
from timebank.common.selectors import policy_value
from timebank.ledger import services as ledger
from timebank.people.models import Resident, User
from timebank.people.selectors import eligibility, is_city_supervisor
from timebank.places.models import Region, Site

from . import errors
from .models import (
    Competition,
    EventSheet,
    EventSheetRow,
    EventSignup,
    GroupEvent,
    Nomination,
    Organisation,
    OrganisationStaff,
    Project,
    ProjectLog,
    ProjectSignup,
    Score,
    Team,
    TeamMember,
)
from .selectors import (
    can_manage_team,
    festival_coefficient,
    is_live_member,
    may_close_competition,
    may_run_competitions,
    organisations_managed_by,
)


def _name(value: str, *, max_length: int = 96) -> str:
    """A name or title as stored: no invisible or control characters (timebank.common.names), 1 to
    ``max_length`` characters."""
    text = clean_name(value)
    if not text or len(text) > max_length:
        raise errors.BadName(field="name", max=max_length)
    return text


def _require_manager(actor: User, team: Team) -> None:
    if not can_manage_team(actor, team):
        raise errors.NotManager()


def _inside(region: Region, area: Region) -> bool:
    return region.path.startswith(area.path)


def _check_lives_in_team_area(team: Team, resident: Resident) -> None:
    if not _inside(resident.home_region, team.region):
        raise errors.OutsideTeamArea(field="resident", name=resident.name, area=team.region.name)


# --------------------------------------------------------------------------------------------- organisations


@transaction.atomic
def organisation_create(*, actor: User, kind: str, name: str, region: Region) -> Organisation:
    """A city supervisor registers a partner organisation."""
    if not is_city_supervisor(actor):
        raise NotAllowed()
    if kind not in Organisation.Kind.values:
        raise errors.BadStatus(field="kind", value=kind)
    return Organisation.objects.create(kind=kind, name=_name(name), region=region)


@transaction.atomic
def organisation_staff_add(*, actor: User, organisation: Organisation, user: User) -> OrganisationStaff:
    """A city supervisor lets ``user`` manage the organisation's teams, projects and events."""
    if not is_city_supervisor(actor):
        raise NotAllowed()
    staff, created = OrganisationStaff.objects.get_or_create(organisation=organisation, user=user)
    if not created and not staff.active:
        staff.active = True
        staff.save(update_fields=["active"])
    return staff


# --------------------------------------------------------------------------------------------- teams


@transaction.atomic
def team_create(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    level: str,
    region: Region,
    leader: Resident,
    on: dt.date | None = None,
) -> Team:
    """A team of ``organisation`` in ``region`` (inside the organisation's area), with its first leader."""
    if not organisations_managed_by(actor).filter(pk=organisation.pk).exists():
        raise errors.OtherOrganisation()
    if level not in Team.Level.values:
        raise errors.BadStatus(field="level", value=level)
    if not _inside(region, organisation.region):
        raise errors.OutsideTeamArea(field="region", name=region.name, area=organisation.region.name)
    text = _name(name)
    if Team.objects.filter(organisation=organisation, name=text).exists():
        raise errors.BadName(field="name", max=96)
    team = Team.objects.create(organisation=organisation, name=text, level=level, region=region)
    _member_insert(team=team, resident=leader, role=TeamMember.Role.LEADER, on=on)
    return team


def _member_insert(*, team: Team, resident: Resident, role: str, on: dt.date | None = None) -> TeamMember:
    if not resident.is_volunteer:
        raise errors.NotAVolunteer(field="resident", name=resident.name)
    _check_lives_in_team_area(team, resident)
    if is_live_member(resident, team):
        raise errors.AlreadyMember(field="resident", name=resident.name)
    try:
        with transaction.atomic():
            return TeamMember.objects.create(
                team=team, resident=resident, role=role, joined_on=on or timezone.localdate()
            )
    except IntegrityError:  # a concurrent add of the same person
        raise errors.AlreadyMember(field="resident", name=resident.name) from None


@transaction.atomic
def team_member_add(
    *, actor: User, team: Team, resident: Resident, role: str = TeamMember.Role.MEMBER, on: dt.date | None = None
) -> TeamMember:
    """Add a volunteer who lives in the team's area; leaders and organisation staff do this."""
    _require_manager(actor, team)
    if role not in TeamMember.Role.values:
        raise errors.BadStatus(field="role", value=role)
    return _member_insert(team=team, resident=resident, role=role, on=on)


def _lock_members(team: Team) -> list[TeamMember]:
    Team.objects.select_for_update().filter(pk=team.pk).first()  # one writer of a team's members at a time
    return list(TeamMember.objects.filter(team=team, left_on__isnull=True))


@transaction.atomic
def team_member_set_role(*, actor: User, member: TeamMember, role: str) -> TeamMember:
    """Make a member a leader or a leader a member (the team keeps at least one leader)."""
    _require_manager(actor, member.team)
    if role not in TeamMember.Role.values:
        raise errors.BadStatus(field="role", value=role)
    live = _lock_members(member.team)
    current = next((m for m in live if m.pk == member.pk), None)
    if current is None:
        raise errors.NotMember(name=member.resident.name)
    leaders = [m for m in live if m.role == TeamMember.Role.LEADER]
    if role == TeamMember.Role.MEMBER and current.role == TeamMember.Role.LEADER and len(leaders) == 1:
        raise errors.LastLeader()
    current.role = role
    current.save(update_fields=["role"])
    return current


@transaction.atomic
def team_member_remove(*, actor: User, member: TeamMember, on: dt.date | None = None) -> TeamMember:
    """The member leaves the team (the record stays, with the day they left)."""
    _require_manager(actor, member.team)
    live = _lock_members(member.team)
    current = next((m for m in live if m.pk == member.pk), None)
    if current is None:
        raise errors.NotMember(name=member.resident.name)
    leaders = [m for m in live if m.role == TeamMember.Role.LEADER]
    if current.role == TeamMember.Role.LEADER and len(leaders) == 1:
        raise errors.LastLeader()
    current.left_on = max(on or timezone.localdate(), current.joined_on)
    current.save(update_fields=["left_on"])
    return current


# --------------------------------------------------------------------------------------------- projects


def _count(value: int, *, field: str, low: int = 0, high: int = 100_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise errors.BadNumber(field=field, low=low, high=high)
    return value


@transaction.atomic
def project_create(*, actor: User, team: Team, title: str, description: str = "", places_wanted: int = 0) -> Project:
    _require_manager(actor, team)
    text = _name(title)
    if Project.objects.filter(team=team, title=text).exists():
        raise errors.BadName(field="title", max=96)
    return Project.objects.create(
        team=team,
        title=text,
        description=(description or "").strip(),
        places_wanted=_count(places_wanted, field="places_wanted"),
        created_by=actor,
    )


@transaction.atomic
def project_status_set(*, actor: User, project: Project, status: str) -> Project:
    _require_manager(actor, project.team)
    if status not in Project.Status.values:
        raise errors.BadStatus(field="status", value=status)
    project.status = status
    project.save(update_fields=["status"])
    return project


def _check_may_join(actor: User, team: Team, resident: Resident) -> None:
    """The volunteer signs up themself, or a manager of the team signs them up."""
    if actor.resident_id != resident.pk and not can_manage_team(actor, team):
        raise errors.NotManager()


@transaction.atomic
def project_signup_add(*, actor: User, project: Project, resident: Resident) -> ProjectSignup:
    """A volunteer joins a recruiting project (while it still wants people)."""
    _check_may_join(actor, project.team, resident)
    if not resident.is_volunteer:
        raise errors.NotAVolunteer(field="resident", name=resident.name)
    Project.objects.select_for_update().filter(pk=project.pk).first()
    project.refresh_from_db()
    if project.status != Project.Status.RECRUITING:
        raise errors.ProjectClosed()
    live = ProjectSignup.objects.filter(project=project, withdrawn_at__isnull=True)
    if live.filter(resident=resident).exists():
        raise errors.AlreadySignedUp(name=resident.name)
    if project.places_wanted and live.count() >= project.places_wanted:
        raise errors.ProjectFull()
    return ProjectSignup.objects.create(project=project, resident=resident)


@transaction.atomic
def project_log_add(*, actor: User, project: Project, day: dt.date, text: str, people_reached: int = 0) -> ProjectLog:
    """Record what the project did on ``day`` (not in the future) and how many people it reached."""
    _require_manager(actor, project.team)
    words = (text or "").strip()
    if not words:
        raise errors.BadName(field="text", max=2000)
    if len(words) > 2000:
        raise errors.BadName(field="text", max=2000)
    if day > timezone.localdate():
        raise errors.FutureDay(field="day")
    return ProjectLog.objects.create(
        project=project,
        day=day,
        text=words,
        people_reached=_count(people_reached, field="people_reached"),
        written_by=actor,
    )


# --------------------------------------------------------------------------------------------- competitions


def competition_check(*, actor: User, title: str, year: int, criteria: Sequence[str]) -> tuple[str, list[str]]:
    """Check a new competition without writing anything; return the cleaned title and criteria.

    The actor runs competitions; at least one criterion, each named once (at most 64 characters); a
    year from 2000 to 2100; no other competition of the same title and year.
    """
    if not may_run_competitions(actor):
        raise errors.NotSupervisor()
    names = [c.strip() for c in criteria]
    if not names or any(not c or len(c) > 64 for c in names) or len(set(names)) != len(names):
        raise errors.BadCriteria(field="criteria")
    text = _name(title)
    _count(year, field="year", low=2000, high=2100)
    if Competition.objects.filter(title=text, year=year).exists():
        raise errors.BadName(field="title", max=96)
    return text, names


@transaction.atomic
def competition_create(
    *, actor: User, title: str, year: int, criteria: Sequence[str], judges: Sequence[User]
) -> Competition:
    """Open a competition (:func:`competition_check` first); judges are named now."""
    text, names = competition_check(actor=actor, title=title, year=year, criteria=criteria)
    competition = Competition.objects.create(title=text, year=year, criteria=names, created_by=actor)
    competition.judges.set(judges)
    return competition


def _require_open(competition: Competition) -> None:
    Competition.objects.select_for_update().filter(pk=competition.pk).first()
    competition.refresh_from_db(fields=["status", "closed_at"])
    if competition.status != Competition.Status.OPEN:
        raise errors.CompetitionClosed()


@transaction.atomic
def nomination_add(*, actor: User, competition: Competition, project: Project) -> Nomination:
    """A project's team managers (or whoever runs competitions) put it forward while the competition is open."""
    if not (can_manage_team(actor, project.team) or may_run_competitions(actor)):
        raise errors.NotManager()
    _require_open(competition)
    if Nomination.objects.filter(competition=competition, project=project).exists():
        raise errors.AlreadyNominated()
    return Nomination.objects.create(competition=competition, project=project, nominated_by=actor)


@transaction.atomic
def score_set(*, judge: User, nomination: Nomination, criterion: str, points: int) -> Score:
    """A judge gives 0..100 points on one criterion (again: the new points replace the old, while open)."""
    competition = nomination.competition
    if not competition.judges.filter(pk=judge.pk).exists():
        raise errors.NotAJudge()
    if is_live_member(judge.resident, nomination.project.team):
        raise errors.OwnTeam()
    if criterion not in competition.criteria:
        raise errors.BadCriterion(field="criterion", value=criterion)
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= 100:
        raise errors.BadPoints(field="points")
    _require_open(competition)
    score, created = Score.objects.get_or_create(
        nomination=nomination, judge=judge, criterion=criterion, defaults={"points": points}
    )
    if not created and score.points != points:
        score.points = points
        score.save(update_fields=["points", "updated_at"])
    return score


@transaction.atomic
def scores_set(*, judge: User, competition: Competition, points: Sequence[tuple[Nomination, str, int]]) -> list[Score]:
    """A judge's score sheet: several scores saved together, all or none."""
    saved = []
    for nomination, criterion, value in points:
        if nomination.competition_id != competition.pk:
            raise errors.NotAJudge()
        saved.append(score_set(judge=judge, nomination=nomination, criterion=criterion, points=value))
    return saved


@transaction.atomic
def competition_close(*, actor: User, competition: Competition) -> Competition:
    if not may_close_competition(actor, competition):
        raise errors.NotSupervisor()
    _require_open(competition)
    competition.status = Competition.Status.CLOSED
    competition.closed_at = timezone.now()
    competition.save(update_fields=["status", "closed_at"])
    return competition


# --------------------------------------------------------------------------------------------- events


@transaction.atomic
def event_create(
    *,
    actor: User,
    team: Team | None = None,
    project: Project | None = None,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    site: Site | None = None,
    place_text: str = "",
    festival: str = "",
    guardian_name: str = "",
) -> GroupEvent:
    """A group event of a team (or of one of its projects)."""
    if project is not None:
        if team is not None and team.pk != project.team_id:
            raise errors.TeamRequired(field="project")
        team = project.team
    if team is None:
        raise errors.TeamRequired(field="team")
    _require_manager(actor, team)
    if ends_at <= starts_at:
        raise errors.BadEventTime(field="ends_at")
    return GroupEvent.objects.create(
        team=team,
        project=project,
        title=_name(title),
        site=site,
        place_text=(place_text or "").strip()[:200],
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=_count(capacity, field="capacity", low=1, high=10_000),
        festival=(festival or "").strip()[:32],
        guardian_name=(guardian_name or "").strip()[:64],
        created_by=actor,
    )


def _lock_event(event: GroupEvent) -> GroupEvent:
    return GroupEvent.objects.select_for_update().get(pk=event.pk)


@transaction.atomic
def event_signup_add(*, actor: User, event: GroupEvent, resident: Resident) -> EventSignup:
    """Sign a volunteer up (themself, or by a leader). Under-18s only where the event names a guardian."""
    assert event.team is not None  # every event has a team (event_create sets it)
    _check_may_join(actor, event.team, resident)
    locked = _lock_event(event)
    if EventSheet.objects.filter(event=locked).exists():
        raise errors.EventPosted()
    if locked.ends_at <= timezone.now():
        raise errors.EventOver()
    found = eligibility(resident, on=timezone.localdate(locked.starts_at))
    minor = found.age < _serve_min_age(locked)
    if minor and not locked.guardian_name:
        raise errors.GuardianRequired(field="resident", name=resident.name, age=_serve_min_age(locked))
    if not minor and not resident.is_volunteer:
        raise errors.NotAVolunteer(field="resident", name=resident.name)
    reasons = found.serve_reasons[1:] if minor else found.serve_reasons  # a minor's first reason is the age
    if reasons:
        raise errors.MayNotServe(field="resident", name=resident.name, reason="; ".join(str(r) for r in reasons))
    live = EventSignup.objects.filter(event=locked, withdrawn_at__isnull=True)
    if live.filter(resident=resident).exists():
        raise errors.AlreadySignedUp(field="resident", name=resident.name)
    if live.count() >= locked.capacity:
        raise errors.EventFull(capacity=locked.capacity)
    return EventSignup.objects.create(event=locked, resident=resident, signed_up_by=actor)


@transaction.atomic
def event_signup_withdraw(*, actor: User, signup: EventSignup) -> EventSignup:
    """The volunteer (or a manager of the team) cancels a sign-up before the event starts.

    Refused once the event has started or its sheet is posted, and for a sign-up already withdrawn. The
    row is kept with ``withdrawn_at`` set (sign-ups are never deleted); the place is free again and the
    volunteer may sign up anew.
    """
    event = signup.event
    assert event.team is not None
    _check_may_join(actor, event.team, signup.resident)
    locked = _lock_event(event)  # the same lock as sign-up and sheet posting
    current = EventSignup.objects.select_for_update().get(pk=signup.pk)
    if current.withdrawn_at is not None:
        raise errors.SignupWithdrawn(name=current.resident.name)
    if EventSheet.objects.filter(event=locked).exists():
        raise errors.EventPosted()
    if locked.starts_at <= timezone.now():
        raise errors.EventStarted()
    current.withdrawn_at = timezone.now()
    current.save(update_fields=["withdrawn_at"])
    return current


def _serve_min_age(event: GroupEvent) -> int:
    return int(policy_value("people.serve_min_age", on=timezone.localdate(event.starts_at)))


@dataclass(frozen=True)
class SheetRow:
    """One line of an attendance sheet: arrival and leaving times, or the minutes served."""

    resident: Resident
    arrived_at: dt.datetime | None = None
    left_at: dt.datetime | None = None
    minutes: int | None = None


def _row_minutes(event: GroupEvent, row: SheetRow) -> int:
    name = row.resident.name
    length = int((event.ends_at - event.starts_at).total_seconds() // 60)
    if row.arrived_at is not None or row.left_at is not None:
        if row.arrived_at is None or row.left_at is None:
            raise errors.TimeOutsideEvent(field="rows", name=name, **_window(event))
        if not event.starts_at <= row.arrived_at < row.left_at <= event.ends_at:
            raise errors.TimeOutsideEvent(field="rows", name=name, **_window(event))
        minutes = int((row.left_at - row.arrived_at).total_seconds() // 60)
        if row.minutes is not None and row.minutes != minutes:
            raise errors.BadMinutes(field="rows", name=name, max=length)
    else:
        minutes = row.minutes if row.minutes is not None else 0
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= length:
        raise errors.BadMinutes(field="rows", name=name, max=length)
    return minutes


def _window(event: GroupEvent) -> dict[str, str]:
    start, end = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
    return {
        "start": f"{start:%Y-%m-%d %H:%M}",
        "end": f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}",
    }


def event_batch_key(event: GroupEvent) -> str:
    """The ledger batch key of an event's sheet: one per event, so the hours are posted once."""
    return f"group-event:{event.pk}"


@dataclass(frozen=True)
class SheetLine:
    """A checked row: the minutes served and the minutes the ledger will credit."""

    row: SheetRow
    minutes: int
    credited: int


def event_sheet_check(*, event: GroupEvent, rows: Sequence[SheetRow]) -> tuple[Decimal, list[SheetLine]]:
    """Check a sheet without writing anything; return the festival coefficient and the credited lines.

    Every row must be a live sign-up, nobody twice, times inside the event's window (or 0 < minutes ≤
    its length). Credited minutes = served minutes × the festival coefficient in force on the event's
    day, rounded by the ledger's rule (:func:`timebank.ledger.services.credited_minutes`).
    """
    if not rows:
        raise errors.SheetEmpty(field="rows")
    signed = set(
        EventSignup.objects.filter(event=event, withdrawn_at__isnull=True).values_list("resident_id", flat=True)
    )
    seen: set[int] = set()
    served: list[tuple[SheetRow, int]] = []
    for row in rows:
        if row.resident.pk in seen:
            raise errors.AttendeeTwice(field="rows", name=row.resident.name)
        seen.add(row.resident.pk)
        if row.resident.pk not in signed:
            raise errors.NotSignedUp(field="rows", name=row.resident.name)
        served.append((row, _row_minutes(event, row)))
    day = timezone.localdate(event.starts_at)
    coefficient = festival_coefficient(event.festival, on=day)
    return coefficient, [SheetLine(row, m, ledger.credited_minutes(m, coefficient, on=day)) for row, m in served]


@transaction.atomic
def event_sheet_submit(*, actor: User, event: GroupEvent, rows: Sequence[SheetRow]) -> EventSheet:
    """Check the attendance sheet (:func:`event_sheet_check`) and post every attendee's hours in ONE batch.

    Submitting the same sheet again returns the posted sheet; a different sheet after posting is refused
    (:class:`SheetAlreadyPosted`); nothing is written on any refusal.
    """
    assert event.team is not None
    _require_manager(actor, event.team)
    locked = _lock_event(event)  # two submissions at once: the second waits here, then sees the first
    coefficient, lines = event_sheet_check(event=locked, rows=rows)
    fingerprint = hashlib.sha256(
        json.dumps(sorted([line.row.resident.pk, line.minutes, line.credited] for line in lines)).encode()
    ).hexdigest()
    assert locked.team is not None
    existing = EventSheet.objects.filter(event=locked).first()
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise errors.SheetAlreadyPosted()
        return existing
    if locked.starts_at > timezone.now():
        raise errors.EventNotStarted()
    batch = ledger.group_credit_batch(
        key=event_batch_key(locked),
        volunteers=[(line.row.resident, line.credited) for line in lines],
        actor=actor,
        memo=locked.title[:200],
        place=locked.site.region if locked.site is not None else locked.team.region,
        ref=f"event:{locked.pk}",
    )
    sheet = EventSheet.objects.create(
        event=locked, batch=batch, coefficient=coefficient, fingerprint=fingerprint, submitted_by=actor
    )
    EventSheetRow.objects.bulk_create(
        EventSheetRow(
            sheet=sheet,
            resident=line.row.resident,
            arrived_at=line.row.arrived_at,
            left_at=line.row.left_at,
            minutes=line.minutes,
            credited_minutes=line.credited,
        )
        for line in lines
    )
    locked.coefficient = coefficient
    locked.save(update_fields=["coefficient"])
    return sheet


__all__ = [
    "SheetLine",
    "SheetRow",
    "competition_check",
    "competition_close",
    "competition_create",
    "event_batch_key",
    "event_create",
    "event_sheet_check",
    "event_sheet_submit",
    "event_signup_add",
    "event_signup_withdraw",
    "nomination_add",
    "organisation_create",
    "organisation_staff_add",
    "project_create",
    "project_log_add",
    "project_signup_add",
    "project_status_set",
    "score_set",
    "scores_set",
    "team_create",
    "team_member_add",
    "team_member_remove",
    "team_member_set_role",
]
