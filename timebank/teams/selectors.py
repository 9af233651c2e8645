"""Reads about teams, projects, competitions and events, and who may manage what.

Scope: an organisation's staff (:class:`OrganisationStaff`) manage its teams, projects and events; a
team's live leaders manage the team (members, projects, events, sign-ups, sheets); town administrators
see the teams of their town; city supervisors (and superusers) see all teams. Volunteers see the open
events and recruiting projects of active teams, and their own teams.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from timebank.common.selectors import policy_value
from timebank.people.models import Resident, StaffRole, User
from timebank.people.selectors import active_roles, is_city_supervisor

from .models import (
    Competition,
    EventSignup,
    GroupEvent,
    Nomination,
    Organisation,
    OrganisationStaff,
    Project,
    ProjectSignup,
    Score,
    Team,
    TeamMember,
)

# --------------------------------------------------------------------------------------------- scope


def organisations_managed_by(user: User) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(staff__user=user, staff__active=True, active=True)


def led_team_ids(user: User) -> set[int]:
    if not user.is_authenticated or user.resident_id is None:
        return set()
    return set(
        TeamMember.objects.filter(
            resident_id=user.resident_id, role=TeamMember.Role.LEADER, left_on__isnull=True
        ).values_list("team_id", flat=True)
    )


def can_manage_team(user: User, team: Team) -> bool:
    """Superusers, the staff of the team's organisation and the team's live leaders."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if OrganisationStaff.objects.filter(user=user, organisation_id=team.organisation_id, active=True).exists():
        return True
    return team.pk in led_team_ids(user)


def teams_managed_by(user: User) -> QuerySet[Team]:
    qs = Team.objects.select_related("organisation", "region")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    orgs = OrganisationStaff.objects.filter(user=user, active=True).values("organisation_id")
    return qs.filter(Q(organisation_id__in=orgs) | Q(pk__in=led_team_ids(user)))


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Teams a staff member may look at: managed ones, their town's (town admins), all (city supervisors)."""
    qs = Team.objects.select_related("organisation", "region")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    q = Q(pk__in=teams_managed_by(user).values("pk"))
    for role in active_roles(user):
        if role.role == StaffRole.Role.CITY_SUPERVISOR:
            return qs
        if role.role == StaffRole.Role.TOWN_ADMIN:
            q |= Q(region__path__startswith=role.region.path)
    return qs.filter(q)


def can_see_team(user: User, team: Team) -> bool:
    return teams_visible_to(user).filter(pk=team.pk).exists()


# --------------------------------------------------------------------------------------------- teams


def live_members(team: Team) -> QuerySet[TeamMember]:
    return (
        TeamMember.objects.filter(team=team, left_on__isnull=True)
        .select_related("resident")
        .order_by("role", "resident__name_pinyin")  # leaders first ("leader" < "member")
    )


def teams_of(resident: Resident) -> QuerySet[TeamMember]:
    return (
        TeamMember.objects.filter(resident=resident, left_on__isnull=True)
        .select_related("team__organisation", "team__region")
        .order_by("team__name")
    )


def is_live_member(resident: Resident | None, team: Team) -> bool:
    if resident is None:
        return False
    return TeamMember.objects.filter(team=team, resident=resident, left_on__isnull=True).exists()


# --------------------------------------------------------------------------------------------- projects


def live_project_signups(project: Project) -> QuerySet[ProjectSignup]:
    return ProjectSignup.objects.filter(project=project, withdrawn_at__isnull=True).select_related("resident")


def recruiting_projects() -> QuerySet[Project]:
    return (
        Project.objects.filter(status=Project.Status.RECRUITING, team__active=True)
        .select_related("team__organisation")
        .annotate(signed=Count("signups", filter=Q(signups__withdrawn_at__isnull=True)))
        .order_by("title", "pk")
    )


def project_ids_signed_up(resident: Resident) -> set[int]:
    return set(
        ProjectSignup.objects.filter(resident=resident, withdrawn_at__isnull=True).values_list("project_id", flat=True)
    )


# --------------------------------------------------------------------------------------------- events


def live_event_signups(event: GroupEvent) -> QuerySet[EventSignup]:
    return (
        EventSignup.objects.filter(event=event, withdrawn_at__isnull=True)
        .select_related("resident")
        .order_by("resident__name_pinyin", "pk")
    )


def upcoming_events(*, now: dt.datetime | None = None) -> QuerySet[GroupEvent]:
    """Events still to come (not ended, no sheet posted) of active teams, soonest first."""
    moment = now or timezone.now()
    return (
        GroupEvent.objects.filter(ends_at__gt=moment, team__active=True, sheet__isnull=True)
        .select_related("team", "project", "site")
        .annotate(signed=Count("signups", filter=Q(signups__withdrawn_at__isnull=True)))
        .order_by("starts_at", "pk")
    )


def event_ids_signed_up(resident: Resident) -> set[int]:
    return set(
        EventSignup.objects.filter(resident=resident, withdrawn_at__isnull=True).values_list("event_id", flat=True)
    )


def live_event_signups_of(resident: Resident) -> dict[int, EventSignup]:
    """The resident's live sign-ups, by event id."""
    rows = EventSignup.objects.filter(resident=resident, withdrawn_at__isnull=True)
    return {s.event_id: s for s in rows}


def festival_coefficient(festival: str, *, on: dt.date) -> Decimal:
    """The bonus coefficient for ``festival`` in force on ``on`` (policy ``teams.festival_coefficients``)."""
    if not festival:
        return Decimal(1)
    table = policy_value("teams.festival_coefficients", on=on) or {}
    value = table.get(festival.strip())
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else Decimal(1)


# --------------------------------------------------------------------------------------------- competitions


def may_run_competitions(user: User) -> bool:
    """City supervisors (and superusers) and the staff of a partner organisation create competitions."""
    return is_city_supervisor(user) or organisations_managed_by(user).exists()


def may_close_competition(user: User, competition: Competition) -> bool:
    """City supervisors, and whoever created the competition."""
    return is_city_supervisor(user) or (user.is_authenticated and competition.created_by_id == user.pk)


def projects_nominable_by(user: User, competition: Competition) -> QuerySet[Project]:
    """Projects ``user`` may put forward (as :func:`timebank.teams.services.nomination_add` allows), not yet in.

    Whoever runs competitions may nominate any project; a team's managers nominate their team's projects.
    """
    qs = Project.objects.select_related("team").exclude(nominations__competition=competition)
    if not may_run_competitions(user):
        qs = qs.filter(team__in=teams_managed_by(user))
    return qs.order_by("title", "team__name", "pk")


def judge_candidates() -> QuerySet[User]:
    """Accounts that may be named as judges: active city supervisors, town admins and partner organisation staff."""
    roles = [StaffRole.Role.CITY_SUPERVISOR, StaffRole.Role.TOWN_ADMIN, StaffRole.Role.PARTNER_ADMIN]
    return (
        User.objects.filter(is_active=True, staff_roles__active=True, staff_roles__role__in=roles)
        .distinct()
        .prefetch_related("staff_roles__region")
        .order_by("last_name", "first_name", "username")
    )


def is_judge(user: User, competition: Competition) -> bool:
    return competition.judges.filter(pk=user.pk).exists()


def competitions_judged_by(user: User) -> QuerySet[Competition]:
    return Competition.objects.filter(judges=user).order_by("-year", "title")


def judge_scores(competition: Competition, judge: User) -> dict[tuple[int, str], int]:
    """The judge's points so far: (nomination pk, criterion) → points."""
    rows = Score.objects.filter(nomination__competition=competition, judge=judge).values_list(
        "nomination_id", "criterion", "points"
    )
    return {(n, c): p for n, c, p in rows}


@dataclass(frozen=True)
class Result:
    rank: int
    nomination: Nomination
    mean: Decimal | None  # None: nobody scored it
    scores: int


def competition_results(competition: Competition) -> list[Result]:
    """Nominations ranked by their mean score over all judges and criteria (equal means share a rank).

    Nominations nobody scored come last, unranked by points. Callers list this only once the
    competition is closed (:func:`timebank.teams.services` refuses nothing here; the pages check).
    """
    rows = list(
        Nomination.objects.filter(competition=competition)
        .select_related("project__team")
        .annotate(mean=Avg("scores__points"), n=Count("scores"))
    )
    rows.sort(key=lambda n: (n.mean is None, -(n.mean or 0), n.project.title, n.pk))
    results: list[Result] = []
    previous: Decimal | None = None
    rank = 0
    for index, nomination in enumerate(rows, start=1):
        raw = nomination.mean
        mean = Decimal(str(raw)).quantize(Decimal("0.01")) if raw is not None else None
        if mean is None or mean != previous:
            rank = index
        previous = mean
        results.append(Result(rank, nomination, mean, nomination.n))
    return results


def resident_by_phone(raw: str) -> Resident | None:
    """The active resident registered with this phone number (any spelling of a Chinese mobile number)."""
    from timebank.people.errors import InvalidPhone
    from timebank.people.services import normalise_phone

    try:
        phone = normalise_phone(raw)
    except InvalidPhone:
        return None
    return Resident.objects.filter(phone=phone, active=True).select_related("home_region").order_by("pk").first()
