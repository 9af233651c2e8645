"""Teams pages: volunteers find events and projects and sign up; leaders and partner organisations manage
members, projects (with their record), events and the attendance sheet; judges score; results are listed.

Each view checks its form and calls one service or selector; a refusal is shown in the reader's language
next to the field it concerns, and nothing was written.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from timebank.common.errors import DomainError
from timebank.ledger.selectors import hours
from timebank.people.models import User
from timebank.teams import selectors as sel
from timebank.teams import services
from timebank.teams.models import Competition, EventSignup, GroupEvent, Project, Team, TeamMember
from timebank.web.forms_support import add_domain_error
from timebank.web.volunteer.views import when_words

from .forms import (
    CompetitionForm,
    EventForm,
    LogForm,
    NominationForm,
    PhoneForm,
    ProjectForm,
    ProjectStatusForm,
    ScoreForm,
    SheetForm,
)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _see(user: User, team: Team) -> bool:
    return sel.can_see_team(user, team) or sel.is_live_member(user.resident, team)


# --------------------------------------------------------------------------------------------- index


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    me = user.resident
    context: dict[str, Any] = {
        "me": me,
        "my_teams": list(sel.teams_of(me)) if me is not None else [],
        "managed": list(sel.teams_managed_by(user).order_by("name")[:200]),
        "visible": list(sel.teams_visible_to(user).order_by("organisation__name", "name")[:200]),
        "judging": list(sel.competitions_judged_by(user)),
        "competitions": Competition.objects.exists() or sel.may_run_competitions(user),
    }
    if me is not None:
        joined_events = sel.live_event_signups_of(me)
        joined_projects = sel.project_ids_signed_up(me)
        now = timezone.now()
        context["events"] = [
            {
                "event": e,
                "when": when_words(e.starts_at, e.ends_at),
                "joined": e.pk in joined_events,
                "cancel": joined_events.get(e.pk) if e.starts_at > now else None,
            }
            for e in sel.upcoming_events(now=now)[:30]
        ]
        context["projects"] = [
            {"project": p, "joined": p.pk in joined_projects} for p in sel.recruiting_projects()[:30]
        ]
    return render(request, "web/teams/index.html", context)


def _join_page(request: HttpRequest, template: str, context: dict[str, Any], do: Any, done: str) -> HttpResponse:
    """GET: the confirmation step. POST with confirm: sign up (once), then back to the list."""
    if request.method == "POST" and request.POST.get("confirm"):
        try:
            do()
        except DomainError as exc:
            context["refusal"] = exc.text
            return render(request, template, context, status=exc.status)
        messages.success(request, done)
        return redirect("web:teams:index")
    return render(request, template, context)


@login_required
def event_join(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(GroupEvent.objects.select_related("team", "project", "site"), pk=pk)
    user = _user(request)
    me = user.resident
    if me is None:
        raise PermissionDenied
    context = {"event": event, "when": when_words(event.starts_at, event.ends_at)}
    return _join_page(
        request,
        "web/teams/event_join.html",
        context,
        lambda: services.event_signup_add(actor=user, event=event, resident=me),
        _("You are signed up for %(title)s. The team leader will expect you.") % {"title": event.title},
    )


@login_required
def project_join(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(Project.objects.select_related("team"), pk=pk)
    user = _user(request)
    me = user.resident
    if me is None:
        raise PermissionDenied
    return _join_page(
        request,
        "web/teams/project_join.html",
        {"project": project},
        lambda: services.project_signup_add(actor=user, project=project, resident=me),
        _("You joined the project %(title)s.") % {"title": project.title},
    )


@login_required
def event_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation step. POST with confirm: withdraw the sign-up (the service checks the rules)."""
    signup = get_object_or_404(EventSignup.objects.select_related("event__team", "event__site", "resident"), pk=pk)
    event = signup.event
    assert event.team is not None
    user = _user(request)
    if signup.resident_id != user.resident_id and not sel.can_manage_team(user, event.team):
        raise PermissionDenied
    context: dict[str, Any] = {"signup": signup, "event": event, "when": when_words(event.starts_at, event.ends_at)}
    if request.method == "POST" and request.POST.get("confirm"):
        try:
            services.event_signup_withdraw(actor=user, signup=signup)
        except DomainError as exc:
            context["refusal"] = exc.text
            return render(request, "web/teams/event_cancel.html", context, status=exc.status)
        messages.success(request, _("Your sign-up for %(title)s is cancelled.") % {"title": event.title})
        return redirect("web:teams:index")
    return render(request, "web/teams/event_cancel.html", context)


# --------------------------------------------------------------------------------------------- team


def _team_page(request: HttpRequest, team: Team, *, status: int = 200, **forms: Any) -> HttpResponse:
    user = _user(request)
    manage = sel.can_manage_team(user, team)
    context = {
        "team": team,
        "manage": manage,
        "members": list(sel.live_members(team)),
        "projects": list(team.projects.order_by("status", "title")),
        "events": [
            {"event": e, "when": when_words(e.starts_at, e.ends_at), "posted": hasattr(e, "sheet")}
            for e in team.events.select_related("sheet").order_by("-starts_at")[:50]
        ],
        "member_form": forms.get("member_form") or PhoneForm(prefix="m"),
    }
    return render(request, "web/teams/team.html", context, status=status)


def _team_or_403(request: HttpRequest, pk: int, *, manage: bool) -> Team:
    team = get_object_or_404(Team.objects.select_related("organisation", "region"), pk=pk)
    user = _user(request)
    allowed = sel.can_manage_team(user, team) if manage else _see(user, team)
    if not allowed:
        raise PermissionDenied
    return team


@login_required
def team(request: HttpRequest, pk: int) -> HttpResponse:
    return _team_page(request, _team_or_403(request, pk, manage=False))


@login_required
@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team_or_403(request, pk, manage=True)
    form = PhoneForm(request.POST, prefix="m")
    if not form.is_valid():
        return _team_page(request, team, status=400, member_form=form)
    try:
        member = services.team_member_add(
            actor=_user(request), team=team, resident=form.resident, role=form.cleaned_data.get("role") or "member"
        )
    except DomainError as exc:
        form.add_error("phone", exc.text)
        return _team_page(request, team, status=exc.status, member_form=form)
    messages.success(request, _("%(name)s joined the team.") % {"name": member.resident.name})
    return redirect("web:teams:team", pk=team.pk)


@login_required
@require_POST
def member_change(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(TeamMember.objects.select_related("team", "resident"), pk=pk)
    team = _team_or_403(request, member.team_id, manage=True)
    action = request.POST.get("action", "")
    try:
        if action == "leader":
            services.team_member_set_role(actor=_user(request), member=member, role=TeamMember.Role.LEADER)
        elif action == "member":
            services.team_member_set_role(actor=_user(request), member=member, role=TeamMember.Role.MEMBER)
        elif action == "remove":
            services.team_member_remove(actor=_user(request), member=member)
        else:
            return _team_page(request, team, status=400)
    except DomainError as exc:
        messages.error(request, exc.text)
        return _team_page(request, team, status=exc.status)
    messages.success(request, _("Saved: %(name)s.") % {"name": member.resident.name})
    return redirect("web:teams:team", pk=team.pk)


@login_required
def project_new(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team_or_403(request, pk, manage=True)
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(actor=_user(request), team=team, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The project %(title)s was created.") % {"title": project.title})
            return redirect("web:teams:project", pk=project.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "web/teams/form.html", {"team": team, "form": form, "heading": _("New project")}, status=status
    )


@login_required
def event_new(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team_or_403(request, pk, manage=True)
    form = EventForm(request.POST or None, projects=team.projects.exclude(status=Project.Status.CLOSED))
    if request.method == "POST" and form.is_valid():
        starts_at, ends_at = form.window()
        data = form.cleaned_data
        try:
            event = services.event_create(
                actor=_user(request),
                team=team,
                project=data["project"],
                title=data["title"],
                starts_at=starts_at,
                ends_at=ends_at,
                capacity=data["capacity"],
                place_text=data["place_text"],
                festival=data["festival"],
                guardian_name=data["guardian_name"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The event %(title)s was created.") % {"title": event.title})
            return redirect("web:teams:event", pk=event.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "web/teams/form.html", {"team": team, "form": form, "heading": _("New group event")}, status=status
    )


# --------------------------------------------------------------------------------------------- project


@login_required
def project(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Project.objects.select_related("team__organisation"), pk=pk)
    user = _user(request)
    if not _see(user, item.team):
        raise PermissionDenied
    manage = sel.can_manage_team(user, item.team)
    log_form = LogForm(prefix="log", initial={"day": timezone.localdate()})
    status_form = ProjectStatusForm(prefix="st", initial={"status": item.status})
    status = 200
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        try:
            if "log-text" in request.POST:
                log_form = LogForm(request.POST, prefix="log")
                if log_form.is_valid():
                    services.project_log_add(actor=user, project=item, **log_form.cleaned_data)
                    messages.success(request, _("The entry was added to the project's record."))
                    return redirect("web:teams:project", pk=item.pk)
            else:
                status_form = ProjectStatusForm(request.POST, prefix="st")
                if status_form.is_valid():
                    services.project_status_set(actor=user, project=item, status=status_form.cleaned_data["status"])
                    messages.success(request, _("Saved."))
                    return redirect("web:teams:project", pk=item.pk)
        except DomainError as exc:
            add_domain_error(log_form if "log-text" in request.POST else status_form, exc)
        status = 400
    context = {
        "project": item,
        "manage": manage,
        "signups": list(sel.live_project_signups(item)),
        "logs": list(item.logs.all()[:100]),
        "log_form": log_form,
        "status_form": status_form,
    }
    return render(request, "web/teams/project.html", context, status=status)


# --------------------------------------------------------------------------------------------- event


def _event_or_403(request: HttpRequest, pk: int, *, manage: bool) -> GroupEvent:
    event = get_object_or_404(GroupEvent.objects.select_related("team__organisation", "project", "site"), pk=pk)
    assert event.team is not None
    user = _user(request)
    if not (sel.can_manage_team(user, event.team) if manage else _see(user, event.team)):
        raise PermissionDenied
    return event


@login_required
def event(request: HttpRequest, pk: int) -> HttpResponse:
    item = _event_or_403(request, pk, manage=False)
    assert item.team is not None
    user = _user(request)
    manage = sel.can_manage_team(user, item.team)
    form = PhoneForm(prefix="s")
    status = 200
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        form = PhoneForm(request.POST, prefix="s")
        if form.is_valid():
            try:
                services.event_signup_add(actor=user, event=item, resident=form.resident)
            except DomainError as exc:
                form.add_error("phone", exc.text)
            else:
                messages.success(request, _("%(name)s is signed up.") % {"name": form.resident.name})
                return redirect("web:teams:event", pk=item.pk)
        status = 400
    sheet = getattr(item, "sheet", None) if hasattr(item, "sheet") else None
    context = {
        "event": item,
        "when": when_words(item.starts_at, item.ends_at),
        "manage": manage,
        "signups": list(sel.live_event_signups(item)),
        "sheet": sheet,
        "sheet_rows": list(sheet.rows.select_related("resident").order_by("resident__name_pinyin")) if sheet else [],
        "form": form,
        "started": item.starts_at <= timezone.now(),
    }
    return render(request, "web/teams/event.html", context, status=status)


@login_required
def sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1: tick who came (times prefilled); ``step=review``: check the hours; ``step=confirm``: post once."""
    item = _event_or_403(request, pk, manage=True)
    user = _user(request)
    people = [s.resident for s in sel.live_event_signups(item)]
    form = SheetForm(request.POST or None, event=item, people=people)
    step = request.POST.get("step", "")
    context: dict[str, Any] = {"event": item, "when": when_words(item.starts_at, item.ends_at), "form": form}
    if hasattr(item, "sheet"):
        context["posted"] = item.sheet
    if request.method != "POST":
        return render(request, "web/teams/sheet.html", context)
    if not form.is_valid() or step not in ("review", "confirm") or request.POST.get("change"):
        status = 200 if request.POST.get("change") and form.is_valid() else 400
        return render(request, "web/teams/sheet.html", context, status=status)
    rows = form.sheet_rows()
    if step == "review":
        try:
            coefficient, lines = services.event_sheet_check(event=item, rows=rows)
        except DomainError as exc:
            add_domain_error(form, exc)
            return render(request, "web/teams/sheet.html", context, status=exc.status)
        context |= {
            "lines": [{"line": line, "hours": hours(line.credited)} for line in lines],
            "coefficient": coefficient,
            "total": hours(sum(line.credited for line in lines)),
            "hidden": form.hidden_values(),
        }
        return render(request, "web/teams/sheet_confirm.html", context)
    try:
        posted = services.event_sheet_submit(actor=user, event=item, rows=rows)
    except DomainError as exc:
        add_domain_error(form, exc)
        return render(request, "web/teams/sheet.html", context, status=exc.status)
    messages.success(
        request,
        _("The sheet is posted: %(n)s people, %(h)s hours in one batch.")
        % {"n": posted.batch.count, "h": hours(posted.batch.total)},
    )
    return redirect("web:teams:event", pk=item.pk)


# --------------------------------------------------------------------------------------------- competitions


@login_required
def competitions(request: HttpRequest) -> HttpResponse:
    rows = Competition.objects.order_by("-year", "title")
    return render(
        request,
        "web/teams/competitions.html",
        {
            "competitions": rows,
            "judging": set(sel.competitions_judged_by(_user(request)).values_list("pk", flat=True)),
            "may_create": sel.may_run_competitions(_user(request)),
        },
    )


def _posted_values(request: HttpRequest) -> list[tuple[str, str]]:
    """What was typed, for the confirmation step's hidden inputs."""
    skip = {"csrfmiddlewaretoken", "step", "change"}
    return [(key, value) for key, values in request.POST.lists() if key not in skip for value in values]


@login_required
def competition_new(request: HttpRequest) -> HttpResponse:
    """The form; ``step=review``: check and show what will be created; ``step=confirm``: create it."""
    user = _user(request)
    if not sel.may_run_competitions(user):
        raise PermissionDenied
    form = CompetitionForm(request.POST or None, judges=sel.judge_candidates())
    context: dict[str, Any] = {"form": form}
    step = request.POST.get("step", "")
    if request.method != "POST":
        return render(request, "web/teams/competition_new.html", context)
    if not form.is_valid() or step not in ("review", "confirm") or request.POST.get("change"):
        status = 200 if request.POST.get("change") and form.is_valid() else 400
        return render(request, "web/teams/competition_new.html", context, status=status)
    data = form.cleaned_data
    if step == "review":
        try:
            services.competition_check(actor=user, title=data["title"], year=data["year"], criteria=data["criteria"])
        except DomainError as exc:
            add_domain_error(form, exc)
            return render(request, "web/teams/competition_new.html", context, status=exc.status)
        context["hidden"] = _posted_values(request)
        return render(request, "web/teams/competition_confirm.html", context)
    try:
        item = services.competition_create(
            actor=user, title=data["title"], year=data["year"], criteria=data["criteria"], judges=list(data["judges"])
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return render(request, "web/teams/competition_new.html", context, status=exc.status)
    messages.success(request, _("The competition %(title)s is open for nominations.") % {"title": item.title})
    return redirect("web:teams:competition", pk=item.pk)


@login_required
@require_POST
def nominate(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Competition, pk=pk)
    user = _user(request)
    projects = sel.projects_nominable_by(user, item)
    if not projects.exists():  # nothing this user may put forward
        raise PermissionDenied
    form = NominationForm(request.POST, projects=projects)
    if form.is_valid():
        try:
            services.nomination_add(actor=user, competition=item, project=form.cleaned_data["project"])
        except DomainError as exc:
            add_domain_error(form, exc)
            return _competition_page(request, item, status=exc.status, nominate_form=form)
        messages.success(request, _("%(title)s is nominated.") % {"title": form.cleaned_data["project"].title})
        return redirect("web:teams:competition", pk=item.pk)
    return _competition_page(request, item, status=400, nominate_form=form)


@login_required
def competition_close(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation step. POST with confirm: close it; the results are listed on its page."""
    item = get_object_or_404(Competition, pk=pk)
    user = _user(request)
    if not sel.may_close_competition(user, item):
        raise PermissionDenied
    context: dict[str, Any] = {"competition": item, "nominations": item.nominations.count()}
    if request.method == "POST" and request.POST.get("confirm"):
        try:
            services.competition_close(actor=user, competition=item)
        except DomainError as exc:
            context["refusal"] = exc.text
            return render(request, "web/teams/competition_close.html", context, status=exc.status)
        messages.success(request, _("The competition is closed. The results are listed below."))
        return redirect("web:teams:competition", pk=item.pk)
    return render(request, "web/teams/competition_close.html", context)


@login_required
def competition(request: HttpRequest, pk: int) -> HttpResponse:
    return _competition_page(request, get_object_or_404(Competition, pk=pk))


def _competition_page(
    request: HttpRequest, item: Competition, *, status: int = 200, nominate_form: NominationForm | None = None
) -> HttpResponse:
    user = _user(request)
    judge = sel.is_judge(user, item) and item.status == Competition.Status.OPEN
    nominations = list(item.nominations.select_related("project__team").order_by("project__title"))
    form = None
    if judge:
        form = ScoreForm(
            (request.POST or None) if nominate_form is None else None,
            nominations=nominations,
            criteria=list(item.criteria),
            given=sel.judge_scores(item, user),
        )
        if request.method == "POST" and nominate_form is None:
            if form.is_valid():
                given = [
                    (n, c, form.cleaned_data[name])
                    for n, c, name in form.cells
                    if form.cleaned_data.get(name) is not None
                ]
                try:
                    services.scores_set(judge=user, competition=item, points=given)
                except DomainError as exc:
                    add_domain_error(form, exc)
                    status = exc.status
                else:
                    messages.success(request, _("Your scores are saved."))
                    return redirect("web:teams:competition", pk=item.pk)
            else:
                status = 400
    elif request.method == "POST" and nominate_form is None:
        raise PermissionDenied
    is_open = item.status == Competition.Status.OPEN
    nominable = sel.projects_nominable_by(user, item) if is_open else None
    if nominate_form is None and nominable is not None and nominable.exists():
        nominate_form = NominationForm(projects=nominable)
    context = {
        "competition": item,
        "nominations": nominations,
        "form": form,
        "table": form.table(nominations) if form is not None else [],
        "results": sel.competition_results(item) if item.status == Competition.Status.CLOSED else None,
        "nominate_form": nominate_form if is_open else None,
        "may_close": is_open and sel.may_close_competition(user, item),
    }
    return render(request, "web/teams/competition.html", context, status=status)
