"""The station area: a social worker's day (today's visits, needs to match, disputes, flags).

Views validate the form, call one service or selector and show the result. What a staff member may see
comes from the selectors (``residents_visible_to``, ``needs_visible_to``, ``visits_visible_to``): anything
outside their area is the site's 404 page. A service's refusal appears next to the field it concerns.

Double submits: every form carries an idempotency key; a key already used in this session sends the
browser to the page the first submit led to, so nothing is written twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from timebank.care import cards
from timebank.care import services as care
from timebank.care.models import Dispute, Need, Visit
from timebank.care.selectors import anomaly_flags, catalogue, needs_visible_to, visits_visible_to
from timebank.common.errors import DomainError
from timebank.people import services as people
from timebank.people.models import Resident, User
from timebank.people.selectors import (
    active_roles,
    eligibility,
    regions_visible_to,
    resident_search,
    residents_visible_to,
)
from timebank.places.geo import haversine_m
from timebank.places.models import Region
from timebank.web.access import area_required
from timebank.web.forms_support import add_domain_error

from . import forms as station_forms

_DONE = "station_done"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _already(request: HttpRequest, form: forms.Form) -> HttpResponse | None:
    """The page a first submit with this form's key led to, if the key was used already."""
    key = form.data.get("idem", "")
    url = request.session.get(_DONE, {}).get(key)
    return redirect(url) if url else None


def _remember(request: HttpRequest, form: forms.Form, url: str) -> HttpResponse:
    done: dict[str, str] = request.session.get(_DONE, {})
    done[str(form.cleaned_data.get("idem", ""))] = url
    request.session[_DONE] = dict(list(done.items())[-50:])
    return redirect(url)


def _domain_error(form: forms.Form, exc: DomainError, rename: dict[str, str] | None = None) -> None:
    if rename and exc.field in rename:
        exc.field = rename[exc.field]
    add_domain_error(form, exc)


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def _communities(user: User) -> QuerySet[Region]:
    return regions_visible_to(user).filter(level=Region.Level.COMMUNITY).order_by("path")


def _resident(user: User, pk: int) -> Resident:
    return get_object_or_404(residents_visible_to(user), pk=pk)


def _visit(user: User, pk: int) -> Visit:
    return get_object_or_404(
        visits_visible_to(user).select_related("need__item_version", "need__region", "volunteer"), pk=pk
    )


def _now_minute() -> dt.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


# --------------------------------------------------------------------------------------------- dashboard


@area_required("station")
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    start, end = _day_bounds(today)
    visits = list(
        visits_visible_to(user)
        .filter(need__window_start__gte=start, need__window_start__lt=end)
        .order_by("need__window_start", "pk")[:200]
    )
    counts = Counter(v.status for v in visits)
    by_status = [(value, label, counts[value]) for value, label in Visit.Status.choices if counts[value]]
    open_needs = needs_visible_to(user).filter(status=Need.Status.OPEN, window_end__gt=timezone.now())
    disputes = (
        Dispute.objects.filter(outcome="", visit__in=visits_visible_to(user).values("pk"))
        .select_related("visit__need__elder", "visit__need__item", "visit__volunteer")
        .order_by("opened_at")
    )
    context = {
        "roles": active_roles(user),
        "today": today,
        "visits": visits,
        "by_status": by_status,
        "open_needs": open_needs.order_by("window_start", "pk")[:20],
        "open_needs_count": open_needs.count(),
        "disputes": disputes[:20],
        "disputes_count": disputes.count(),
        "flags": anomaly_flags(user)[:20],
        "search_form": station_forms.SearchForm(),
        "nav": "index",
    }
    return render(request, "web/station/index.html", context)


# --------------------------------------------------------------------------------------------- residents


@area_required("station")
def resident_list(request: HttpRequest) -> HttpResponse:
    form = station_forms.SearchForm(request.GET or None)
    found: list[Resident] | None = None
    if form.is_bound and form.is_valid() and form.cleaned_data["q"].strip():
        found = list(resident_search(_user(request), form.cleaned_data["q"], limit=50))
    return render(request, "web/station/residents.html", {"form": form, "found": found, "nav": "residents"})


@area_required("station")
def resident_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    communities = _communities(user)
    if request.method == "POST":
        form = station_forms.RegisterForm(request.POST, communities=communities)
        if (again := _already(request, form)) is not None:
            return again
        if form.is_valid():
            data = form.cleaned_data
            try:
                resident = people.resident_register(
                    actor=user,
                    name=data["name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    home_region=data["home_region"],
                    address=data["address"],
                    languages=data["languages"],
                    roles=data["roles"],
                    lives_alone=data["lives_alone"],
                    disability=data["disability"],
                    low_income=data["low_income"],
                    lost_only_child=data["lost_only_child"],
                    childless_widowed=data["childless_widowed"],
                )
            except DomainError as exc:
                _domain_error(form, exc)
            else:
                url = reverse("web:station:resident", args=[resident.pk]) + "?new=1"
                return _remember(request, form, url)
    else:
        form = station_forms.RegisterForm(communities=communities)
    return render(request, "web/station/resident_new.html", {"form": form, "nav": "new"})


def _resident_page(request: HttpRequest, resident: Resident, **extra: Any) -> HttpResponse:
    user = _user(request)
    context = {
        "resident": resident,
        "eligibility": eligibility(resident),
        "needs": needs_visible_to(user).filter(elder=resident).order_by("-window_start")[:10],
        "is_new": request.GET.get("new") == "1",
        **extra,
    }
    return render(request, "web/station/resident.html", context)


@area_required("station")
def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _resident_page(request, _resident(_user(request), pk))


@area_required("station")
@require_POST
def resident_id_number(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the full ID number once; the view is recorded (who, whom, when) before it is shown."""
    user = _user(request)
    resident = _resident(user, pk)
    try:
        full = people.personal_data_view_record(viewer=user, resident=resident, purpose="station: resident page")
    except DomainError as exc:
        return _resident_page(request, resident, id_error=exc.text)
    return _resident_page(request, resident, full_id=full)


@area_required("station")
def resident_card(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what printing does (the old card stops working). POST: the new card as a PDF download."""
    user = _user(request)
    resident = _resident(user, pk)
    if request.method == "POST":
        try:
            pdf = cards.card_reissue_pdf(actor=user, elder=resident)
        except DomainError as exc:
            return render(request, "web/station/card.html", {"resident": resident, "error": exc.text})
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="card-{resident.pk}.pdf"'
        return response
    return render(request, "web/station/card.html", {"resident": resident})


# --------------------------------------------------------------------------------------------- needs


@area_required("station")
def need_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    elder = _resident(user, pk)
    items = catalogue().order_by("category__order", "code")
    if request.method == "POST":
        form = station_forms.NeedForm(request.POST, items=items)
        if (again := _already(request, form)) is not None:
            return again
        if form.is_valid():
            data = form.cleaned_data
            begin = timezone.make_aware(dt.datetime.combine(data["day"], data["start"]))
            until = timezone.make_aware(dt.datetime.combine(data["day"], data["end"]))
            try:
                needs = care.need_publish(
                    actor=user,
                    elder=elder,
                    item=data["item"],
                    window_start=begin,
                    window_end=until,
                    notes=data["notes"],
                    pref_language=data["pref_language"],
                    pref_gender=data["pref_gender"],
                    payer=data["payer"] or None,
                )
            except DomainError as exc:
                _domain_error(form, exc, {"window_start": "start", "window_end": "end", "elder": "item"})
            else:
                return _remember(request, form, reverse("web:station:need", args=[needs[0].pk]))
    else:
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        form = station_forms.NeedForm(items=items, initial={"day": tomorrow, "start": "09:00", "end": "11:00"})
    return render(request, "web/station/need_new.html", {"form": form, "elder": elder})


def _candidates(need: Need) -> tuple[list[dict[str, Any]], str, bool]:
    """The ranked candidates of the matching app, each with its plain-words reason; or the refusal.

    When the ranking finds nobody (e.g. no volunteer nearby has entered the times they are free), the
    qualified volunteers of the elder's town follow, nearest first, marked as not ranked.
    """
    from timebank.matching.selectors import candidates

    try:
        found = candidates(need, limit=12)
    except DomainError as exc:
        return [], exc.text, False
    ranked = [{"volunteer": c.volunteer, "distance_m": c.distance_m, "why": c.explanation} for c in found.candidates]
    if ranked:
        return ranked, "", True
    return _qualified_nearby(need), "", False


def _qualified_nearby(need: Need, limit: int = 12) -> list[dict[str, Any]]:
    town = need.region.parent or need.region
    pool = Resident.objects.filter(
        is_volunteer=True, active=True, home_region__path__startswith=town.path, lat__isnull=False, lon__isnull=False
    ).exclude(pk=need.elder_id)
    found: list[tuple[float, Resident]] = []
    for volunteer in pool[:2000]:
        try:
            care.volunteer_check(volunteer, need)
        except DomainError:
            continue
        assert volunteer.lat is not None and volunteer.lon is not None
        found.append((haversine_m(need.lat, need.lon, volunteer.lat, volunteer.lon), volunteer))
    found.sort(key=lambda pair: (pair[0], pair[1].pk))
    languages = dict(station_forms.LANGUAGE_CHOICES)
    return [
        {
            "volunteer": v,
            "distance_m": round(d),
            "why": _("qualified for this service; speaks %(langs)s; free times not recorded")
            % {"langs": "、".join(str(languages.get(code, code)) for code in v.languages or [])},
        }
        for d, v in found[:limit]
    ]


@area_required("station")
def need_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Dispatch: the ranked candidates for an open need, and a button to assign each."""
    user = _user(request)
    need = get_object_or_404(needs_visible_to(user), pk=pk)
    form = station_forms.AssignForm()
    error = ""
    if request.method == "POST":
        form = station_forms.AssignForm(request.POST)
        if (again := _already(request, form)) is not None:
            return again
        if form.is_valid():
            volunteer = Resident.objects.filter(pk=form.cleaned_data["volunteer"], is_volunteer=True).first()
            if volunteer is None:
                raise Http404
            try:
                visit = care.visit_assign(actor=user, need=need, volunteer=volunteer)
            except DomainError as exc:
                error = exc.text
                need.refresh_from_db()
            else:
                return _remember(request, form, reverse("web:station:visit", args=[visit.pk]))
        else:
            error = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        form = station_forms.AssignForm()  # a fresh key for the next try
    found, refusal, ranked = _candidates(need) if need.status == Need.Status.OPEN else ([], "", True)
    context = {
        "need": need,
        "candidates": found,
        "refusal": refusal,
        "ranked": ranked,
        "error": error,
        "idem": form.initial["idem"],
        "visits": need.visits.select_related("volunteer").order_by("-created_at"),
    }
    return render(request, "web/station/need.html", context)


# --------------------------------------------------------------------------------------------- visits


def _suggested_time(visit: Visit) -> dt.datetime:
    """Now when it fits; else the planned start (check-in) or the usual length after check-in (check-out)."""
    now = _now_minute()
    need = visit.need
    if visit.status == Visit.Status.CHECKED_IN and visit.check_in_at is not None:
        if now > visit.check_in_at:
            return now
        return timezone.localtime(visit.check_in_at) + dt.timedelta(minutes=need.item_version.default_minutes)
    if need.window_start - dt.timedelta(hours=1) <= now <= need.window_end:
        return now
    return timezone.localtime(need.window_start)


@area_required("station")
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Check in, check out and confirm for an elder without a phone (times typed by the worker)."""
    user = _user(request)
    visit = _visit(user, pk)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = station_forms.MomentForm(initial={"at": _suggested_time(visit).strftime("%Y-%m-%dT%H:%M")})
    confirm_error = ""
    if action in ("check_in", "check_out", "confirm"):
        bound = station_forms.MomentForm(request.POST)
        if (again := _already(request, bound)) is not None:
            return again
        if action == "confirm":
            bound.fields["at"].required = False
        if bound.is_valid():
            at = bound.cleaned_data.get("at")
            try:
                if action == "check_in":
                    care.visit_check_in(actor=user, visit=visit, at=at)
                elif action == "check_out":
                    care.visit_check_out(actor=user, visit=visit, at=at)
                else:
                    care.visit_confirm(actor=user, visit=visit)
            except DomainError as exc:
                if action == "confirm":
                    confirm_error = exc.text
                else:
                    _domain_error(bound, exc)
                    form = bound
            else:
                return _remember(request, bound, reverse("web:station:visit", args=[visit.pk]) + f"?done={action}")
        else:
            form = bound
    done = request.GET.get("done", "")
    dispute = Dispute.objects.filter(visit=visit).first()
    context = {
        "visit": visit,
        "need": visit.need,
        "form": form,
        "confirm_error": confirm_error,
        "done": done if done in ("check_in", "check_out", "confirm") else "",
        "dispute": dispute,
        "credited_hours": (visit.credited_minutes or 0) / 60,
    }
    return render(request, "web/station/visit.html", context)


# --------------------------------------------------------------------------------------------- disputes


@area_required("station")
def dispute_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    dispute = get_object_or_404(
        Dispute.objects.filter(visit__in=visits_visible_to(user).values("pk")).select_related(
            "visit__need__elder", "visit__need__item", "visit__volunteer", "visit__hold"
        ),
        pk=pk,
    )
    if request.method == "POST" and not dispute.outcome:
        form = station_forms.ResolveForm(request.POST)
        if (again := _already(request, form)) is not None:
            return again
        if form.is_valid():
            data = form.cleaned_data
            try:
                care.dispute_resolve(
                    actor=user,
                    dispute=dispute,
                    outcome=data["outcome"],
                    reason=data["reason"],
                    minutes=data["minutes"],
                )
            except DomainError as exc:
                _domain_error(form, exc)
            else:
                return _remember(request, form, reverse("web:station:dispute", args=[dispute.pk]))
    else:
        form = station_forms.ResolveForm()
    held = dispute.visit.hold.amount if dispute.visit.hold else None
    return render(request, "web/station/dispute.html", {"dispute": dispute, "form": form, "held": held})
