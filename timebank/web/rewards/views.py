"""Rewards pages: the public honour roll (no login), and the staff pages of town administrators and city
supervisors (grant honours and rewards, record a falsification with a confirmation step, list bars).
Care-home and station staff look up entitlements (priority admission) of the residents in their area.

Each view checks its form and calls one service or selector; a refusal is shown next to the field it
concerns, with a 4xx status, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.care.models import Visit
from timebank.common.errors import DomainError
from timebank.common.selectors import policy_value
from timebank.ledger.models import Batch, Transfer
from timebank.people import audit
from timebank.people.models import Resident, User
from timebank.people.selectors import is_staff_member, resident_search, residents_visible_to
from timebank.places.models import Region
from timebank.rewards import selectors, services
from timebank.rewards.models import Entitlement, Honour, RewardKind
from timebank.teams.models import EventSheet, Team
from timebank.web.forms_support import add_domain_error

from .forms import EntitlementForm, HonourForm, ReasonForm, SearchForm, TeamHonourForm

View = Callable[..., HttpResponse]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def rewards_staff(view: View) -> View:
    """Town administrators and city supervisors only (others see the 403 page)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.is_rewards_staff(_user(request)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _volunteer(request: HttpRequest, pk: int) -> Resident:
    """A volunteer in the reader's area (404 outside it: staff see only their own region)."""
    return get_object_or_404(residents_visible_to(_user(request)).filter(is_volunteer=True), pk=pk)


# --------------------------------------------------------------------------------------------- public roll


def roll_towns(request: HttpRequest) -> HttpResponse:
    """Every town's honour roll, for everyone (no login)."""
    year = timezone.localdate().year
    return render(request, "web/rewards/roll_towns.html", {"rows": selectors.honour_towns(year=year), "year": year})


def roll_town(request: HttpRequest, code: str) -> HttpResponse:
    town = get_object_or_404(Region, code=code, level=Region.Level.TOWN)
    roll = selectors.town_roll(town)
    years: dict[int, list[selectors.RollHonour]] = {}
    for h in roll.honours:
        years.setdefault(h.year, []).append(h)
    return render(request, "web/rewards/roll_town.html", {"roll": roll, "years": sorted(years.items(), reverse=True)})


# --------------------------------------------------------------------------------------------- staff


@rewards_staff
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = SearchForm(request.GET or None)
    found = None
    if form.is_valid() and form.cleaned_data["q"]:
        found = list(resident_search(user, form.cleaned_data["q"], limit=30))
        found = [r for r in found if r.is_volunteer]
    today = timezone.localdate()
    context = {
        "form": form,
        "found": found,
        "honours": selectors.honours_visible_to(user).filter(withdrawn_at__isnull=True)[:10],
        "active_bars": selectors.bars_visible_to(user).filter(starts_on__lte=today, ends_on__gt=today).count(),
        "kinds": RewardKind.objects.filter(active=True),
        "nav": "index",
    }
    return render(request, "web/rewards/index.html", context)


def _person_context(request: HttpRequest, me: Resident, **extra: Any) -> dict[str, Any]:
    level = selectors.star_level(me)
    context = {
        "person": me,
        "level": level,
        "reached": selectors.levels_reached(me),
        "bars": list(me.bars.all()),
        "honours": list(me.honours.order_by("-year", "-pk")),
        "held": Entitlement.objects.filter(resident=me).select_related("kind").order_by("revoked_at", "-granted_at"),
        "claimable": selectors.claimable_kinds(me, level),
        "records": selectors.service_records(me),
        "honour_form": HonourForm(),
        "entitlement_form": EntitlementForm(),
        "nav": "index",
    }
    return context | extra


@rewards_staff
def person(request: HttpRequest, pk: int) -> HttpResponse:
    me = _volunteer(request, pk)
    audit.record_view_log(viewer=request.user, resident=me, purpose="rewards: person page")  # type: ignore[arg-type]
    return render(request, "web/rewards/person.html", _person_context(request, me))


@rewards_staff
def honour_new(request: HttpRequest, pk: int) -> HttpResponse:
    me = _volunteer(request, pk)
    if request.method != "POST":
        return redirect("web:rewards:person", pk=me.pk)
    form = HonourForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.honour_grant(
                actor=_user(request),
                person=me,
                kind=data["kind"],
                title=data["title"],
                year=data["year"],
                citation=data["citation"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            messages.success(request, _("The honour is granted and shown on the town's roll."))
            return redirect("web:rewards:person", pk=me.pk)
    return render(request, "web/rewards/person.html", _person_context(request, me, honour_form=form), status=status)


@rewards_staff
def entitlement_new(request: HttpRequest, pk: int) -> HttpResponse:
    me = _volunteer(request, pk)
    if request.method != "POST":
        return redirect("web:rewards:person", pk=me.pk)
    form = EntitlementForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.entitlement_grant(
                actor=_user(request), resident=me, kind=form.cleaned_data["kind"], note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            messages.success(request, _("The reward is recorded."))
            return redirect("web:rewards:person", pk=me.pk)
    return render(
        request, "web/rewards/person.html", _person_context(request, me, entitlement_form=form), status=status
    )


def _reason_page(
    request: HttpRequest, *, title: str, sentence: str, back: str, act: Callable[[str], object], done: str
) -> HttpResponse:
    form = ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            act(form.cleaned_data["reason"])
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            messages.success(request, done)
            return redirect(back)
    context = {"form": form, "title": title, "sentence": sentence, "back": back, "nav": "index"}
    return render(request, "web/rewards/reason.html", context, status=status)


@rewards_staff
def honour_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    honour = get_object_or_404(selectors.honours_visible_to(_user(request)), pk=pk)
    name = honour.person.name if honour.person else honour.team.name if honour.team else ""
    return _reason_page(
        request,
        title=_("Withdraw an honour"),
        sentence=_("Withdraw “%(title)s” (%(year)s) of %(name)s? It leaves the public roll.")
        % {"title": honour.title, "year": honour.year, "name": name},
        back=_person_url(honour.person) if honour.person else _team_url(honour.team_id or 0),
        act=lambda reason: services.honour_withdraw(actor=_user(request), honour=honour, reason=reason),
        done=_("The honour is withdrawn."),
    )


@rewards_staff
def entitlement_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    entitlement = get_object_or_404(selectors.entitlements_visible_to(_user(request)), pk=pk)
    return _reason_page(
        request,
        title=_("Revoke a reward"),
        sentence=_("Revoke “%(reward)s” of %(name)s?")
        % {"reward": entitlement.kind.name, "name": entitlement.resident.name},
        back=_person_url(entitlement.resident),
        act=lambda reason: services.entitlement_revoke(actor=_user(request), entitlement=entitlement, reason=reason),
        done=_("The reward is revoked."),
    )


def _person_url(resident: Resident) -> str:
    return reverse("web:rewards:person", args=[resident.pk])


def _team_url(pk: int) -> str:
    return reverse("web:rewards:team", args=[pk])


def _falsify(
    request: HttpRequest,
    *,
    visit: Visit | None = None,
    transfer: Transfer | None = None,
    batch: Batch | None = None,
) -> HttpResponse:
    """Step 1 shows what will be reversed and asks for the reason; ``step=confirm`` records it."""
    user = _user(request)
    if batch is not None:
        sheet = EventSheet.objects.filter(batch=batch).select_related("event").first()
        team_id = sheet.event.team_id if sheet else None
        if team_id is None or not selectors.teams_in_area(user).filter(pk=team_id).exists():
            raise Http404
    else:
        whose = visit.volunteer_id if visit is not None else (transfer.credit_account.resident_id if transfer else None)
        if whose is None or not residents_visible_to(user).filter(pk=whose).exists():
            raise Http404  # staff see only their own region
    try:
        if batch is not None:
            plan = selectors.team_falsification_plan(batch)
        else:
            plan = selectors.falsification_plan(visit=visit, transfer=transfer)
    except DomainError as exc:
        return render(request, "web/rewards/refused.html", {"error": exc, "nav": "index"}, status=exc.status)
    form = ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST" and request.POST.get("step") == "confirm" and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if plan.batch is not None:
                record = services.team_falsification_record(actor=user, batch=plan.batch, reason=reason)
            else:
                record = services.falsification_record(
                    actor=user, visit=plan.visit, transfer=plan.transfer, reason=reason
                )
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            bar = record.bars.get()
            who = record.person.name if record.person else record.team.name if record.team else ""
            messages.success(
                request,
                _("Recorded. %(name)s is barred from star levels, honours and rewards until %(day)s.")
                % {"name": who, "day": bar.ends_on.isoformat()},
            )
            return redirect(_person_url(record.person) if record.person else _team_url(record.team_id or 0))
    years = policy_value("rewards.falsification_bar_years")
    context = {"plan": plan, "form": form, "years": years, "nav": "index"}
    return render(request, "web/rewards/falsify.html", context, status=status)


@rewards_staff
def falsify_visit(request: HttpRequest, pk: int) -> HttpResponse:
    return _falsify(request, visit=get_object_or_404(Visit, pk=pk))


@rewards_staff
def falsify_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    return _falsify(request, transfer=get_object_or_404(Transfer, pk=pk))


@rewards_staff
def falsify_batch(request: HttpRequest, pk: int) -> HttpResponse:
    return _falsify(request, batch=get_object_or_404(Batch, pk=pk))


# --------------------------------------------------------------------------------------------- teams


@rewards_staff
def teams(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    rows = selectors.teams_in_area(_user(request)).filter(active=True)
    if form.is_valid() and form.cleaned_data["q"]:
        rows = rows.filter(name__contains=form.cleaned_data["q"])
    context = {"form": form, "rows": rows.order_by("name")[:200], "nav": "teams"}
    return render(request, "web/rewards/teams.html", context)


def _team_context(team: Team, **extra: Any) -> dict[str, Any]:
    context = {
        "team": team,
        "bar": selectors.team_active_bar(team),
        "bars": list(team.bars.all()),
        "honours": list(team.honours.order_by("-year", "-pk")),
        "sheets": selectors.team_sheets(team),
        "honour_form": TeamHonourForm(),
        "nav": "teams",
    }
    return context | extra


@rewards_staff
def team(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(selectors.teams_in_area(_user(request)), pk=pk)
    if request.method != "POST":
        return render(request, "web/rewards/team.html", _team_context(found))
    form = TeamHonourForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.honour_grant(
                actor=_user(request),
                team=found,
                kind=Honour.Kind.EXCELLENT_TEAM,
                title=data["title"],
                year=data["year"],
                citation=data["citation"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            messages.success(request, _("The honour is granted and shown on the town's roll."))
            return redirect(_team_url(found.pk))
    return render(request, "web/rewards/team.html", _team_context(found, honour_form=form), status=status)


@rewards_staff
def bars(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = selectors.bars_visible_to(_user(request))[:200]
    return render(request, "web/rewards/bars.html", {"rows": rows, "today": today, "nav": "bars"})


@login_required
def entitlements(request: HttpRequest) -> HttpResponse:
    """Look up recorded rewards (care homes check priority admission here). Any staff member, own area."""
    user = _user(request)
    if not is_staff_member(user):
        raise PermissionDenied
    form = SearchForm(request.GET or None)
    rows = selectors.entitlements_visible_to(user).filter(revoked_at__isnull=True)
    only_priority = request.GET.get("priority") == "1"
    if only_priority:
        rows = rows.filter(kind__priority_admission=True)
    if form.is_valid() and form.cleaned_data["q"]:
        rows = rows.filter(resident__in=resident_search(user, form.cleaned_data["q"], limit=200).values("pk"))
    context = {
        "form": form,
        "rows": rows.order_by("resident__name_pinyin", "kind__min_stars")[:200],
        "only_priority": only_priority,
        "staff": selectors.is_rewards_staff(user),
        "nav": "entitlements",
    }
    return render(request, "web/rewards/entitlements.html", context)
