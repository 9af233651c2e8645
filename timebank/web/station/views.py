"""The station area: a social worker's day (today's visits, needs to match, disputes, flags).

Views validate the form, call one service or selector and show the result. What a staff member may see
comes from the selectors (``residents_visible_to``, ``needs_visible_to``, ``visits_visible_to``): anything
outside their area is the site's 404 page. A service's refusal appears next to the field it concerns.

Dispatch (a day's plan): ``/station/dispatch/`` makes a proposal with the matching services for the
worker's station area (or a town administrator's town); the proposal page shows each need with the proposed
volunteer and why, lets the worker pick another of the need's ranked candidates or leave a row out, and
accepting (after a confirmation page) books each row through the care services. A proposal of another area
is the 404 page.

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
from timebank.matching import selectors as matching_selectors
from timebank.matching import services as matching
from timebank.matching.models import DispatchProposal, ProposalRow
from timebank.people import audit
from timebank.people import services as people
from timebank.people.models import Resident, StaffRole, User
from timebank.people.selectors import (
    active_roles,
    can_manage_region,
    eligibility,
    regions_visible_to,
    resident_search,
    residents_visible_to,
)
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


def _status(form: forms.Form | None = None, *refusals: str) -> int:
    """400 when a posted form or the action was refused (what was entered comes back with the reason),
    else 200: scripts, monitors and the browser see a refusal as one."""
    refused = (form is not None and form.is_bound and bool(form.errors)) or any(refusals)
    return 400 if refused else 200


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
    return render(request, "web/station/resident_new.html", {"form": form, "nav": "new"}, status=_status(form))


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
    """The resident's record, phone and ID number masked; the look is recorded (``people.audit``)."""
    user = _user(request)
    resident = _resident(user, pk)
    audit.record_view_log(viewer=user, resident=resident, purpose="station: resident page")
    return _resident_page(request, resident)


@area_required("station")
@require_POST
def resident_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the full phone number once; the look is recorded (who, whom, when) before it is shown."""
    user = _user(request)
    resident = _resident(user, pk)
    try:
        full = audit.phone_reveal(viewer=user, resident=resident, purpose="station: resident page")
    except DomainError as exc:
        return _resident_page(request, resident, phone_error=exc.text)
    return _resident_page(request, resident, full_phone=full)


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
    return render(request, "web/station/need_new.html", {"form": form, "elder": elder}, status=_status(form))


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
    from timebank.matching.selectors import qualified_nearby

    languages = dict(station_forms.LANGUAGE_CHOICES)
    return [
        {
            "volunteer": v,
            "distance_m": d,
            "why": _("qualified for this service; speaks %(langs)s; free times not recorded")
            % {"langs": "、".join(str(languages.get(code, code)) for code in v.languages or [])},
        }
        for d, v in qualified_nearby(need, limit=limit)
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
    return render(request, "web/station/need.html", context, status=_status(None, error))


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
    return render(request, "web/station/visit.html", context, status=_status(form, confirm_error))


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
    context = {"dispute": dispute, "form": form, "held": held}
    return render(request, "web/station/dispute.html", context, status=_status(form))


# --------------------------------------------------------------------------------------------- dispatch

DISPATCH_ROLES = (StaffRole.Role.SOCIAL_WORKER, StaffRole.Role.TOWN_ADMIN)


def _dispatch_areas(user: User) -> QuerySet[Region]:
    """The areas a worker plans: their station's community; the whole town for a town administrator."""
    ids = [r.region_id for r in active_roles(user) if r.role in DISPATCH_ROLES]
    return Region.objects.filter(pk__in=ids).order_by("path")


def _proposal(user: User, pk: int) -> DispatchProposal:
    proposal = get_object_or_404(DispatchProposal.objects.select_related("region"), pk=pk)
    if not can_manage_region(user, proposal.region):
        raise Http404
    return proposal


def short_name(name: str) -> str:
    """A name shown on a plan that may be printed or seen over a shoulder: 何惠珍 → 何*珍, 李明 → 李*."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _distance_text(metres: int | None) -> str:
    if metres is None:
        return "–"
    if metres < 1000:
        return _("%(m)s m") % {"m": metres}
    return _("%(km)s km") % {"km": f"{metres / 1000:.1f}"}


def _overlaps(a: Need, b: Need) -> bool:
    return a.window_start < b.window_end and b.window_start < a.window_end


def _rows(proposal: DispatchProposal) -> list[ProposalRow]:
    """The proposal's rows in time order, each with its reason in plain words and any clash inside the plan."""
    rows = list(
        proposal.rows.select_related("need__elder", "need__item", "need__region", "volunteer", "visit").order_by(
            "need__window_start", "pk"
        )
    )
    for row in rows:
        row.why = matching_selectors.explanation(row.reasons)  # type: ignore[attr-defined]
        row.elder_short = short_name(row.need.elder.name)  # type: ignore[attr-defined]
        row.walk = _distance_text(row.distance_m)  # type: ignore[attr-defined]
        row.clash = any(  # type: ignore[attr-defined]
            other.pk != row.pk
            and other.included
            and row.included
            and row.volunteer_id is not None
            and other.volunteer_id == row.volunteer_id
            and _overlaps(other.need, row.need)
            for other in rows
        )
    return rows


def _change_row(request: HttpRequest, proposal: DispatchProposal, form: station_forms.RowChangeForm) -> str:
    """Apply a valid row change through the matching service; the error in plain words, or ''."""
    user = _user(request)
    data = form.cleaned_data
    row = get_object_or_404(ProposalRow.objects.select_related("need__item_version"), pk=data["row"], proposal=proposal)
    action = data["action"]
    try:
        if action == "choose":
            ranked = _ranked(row.need)[0]
            volunteer = next((c.volunteer for c in ranked if c.volunteer.pk == data["volunteer"]), None)
            if volunteer is None:
                return _("This volunteer is not among the suggestions for this need any more. Choose again.")
            matching.proposal_row_change(actor=user, proposal=proposal, row=row, volunteer=volunteer)
        elif action == "nobody":
            matching.proposal_row_change(actor=user, proposal=proposal, row=row, volunteer=None)
        else:
            matching.proposal_row_change(actor=user, proposal=proposal, row=row, included=action == "keep")
    except DomainError as exc:
        return exc.text
    return ""


def _ranked(need: Need) -> tuple[list[matching_selectors.Candidate], str]:
    try:
        return matching_selectors.candidates(need, limit=12).candidates, ""
    except DomainError as exc:
        return [], exc.text


@area_required("station")
def dispatch_new(request: HttpRequest) -> HttpResponse:
    """Choose the day (tomorrow unless changed) and the area; the matching services make the proposal."""
    user = _user(request)
    areas = _dispatch_areas(user)
    today = timezone.localdate()
    if request.method == "POST":
        form = station_forms.DispatchForm(request.POST, areas=areas, today=today)
        if (again := _already(request, form)) is not None:
            return again
        if form.is_valid():
            try:
                proposal = matching.proposal_create(
                    actor=user, region=form.cleaned_data["area"], day=form.cleaned_data["day"]
                )
            except DomainError as exc:
                _domain_error(form, exc, {"region": "area"})
            else:
                return _remember(request, form, reverse("web:station:dispatch", args=[proposal.pk]))
    else:
        form = station_forms.DispatchForm(areas=areas, today=today, initial={"day": today + dt.timedelta(days=1)})
    recent = (
        DispatchProposal.objects.filter(region__in=areas)
        .select_related("region", "created_by")
        .order_by("-created_at", "-pk")[:8]
    )
    context = {"form": form, "recent": recent, "nav": "dispatch"}
    return render(request, "web/station/dispatch_new.html", context, status=_status(form))


@area_required("station")
def dispatch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The proposal: who goes where and why, the needs nobody can take and why; leave rows out or put back."""
    user = _user(request)
    proposal = _proposal(user, pk)
    error = ""
    if request.method == "POST":
        form = station_forms.RowChangeForm(request.POST)
        if (again := _already(request, form)) is not None:
            return again
        if form.is_valid() and form.cleaned_data["action"] in ("drop", "keep", "nobody"):
            error = _change_row(request, proposal, form)
            if not error:
                url = reverse("web:station:dispatch", args=[proposal.pk]) + f"#row-{form.cleaned_data['row']}"
                return _remember(request, form, url)
        else:
            error = _("That change was not understood. Nothing was changed.")
        proposal.refresh_from_db()
    rows = _rows(proposal)
    matched = [r for r in rows if r.volunteer_id is not None]
    context = {
        "proposal": proposal,
        "matched": matched,
        "unmatched": [r for r in rows if r.volunteer_id is None],
        "to_book": sum(1 for r in matched if r.included),
        "booked": [r for r in rows if r.outcome == ProposalRow.Outcome.ASSIGNED],
        "refused": [r for r in rows if r.outcome == ProposalRow.Outcome.REFUSED],
        "skipped": [r for r in rows if r.outcome == ProposalRow.Outcome.SKIPPED],
        "draft": proposal.status == DispatchProposal.Status.DRAFT,
        "error": error,
        "idem": station_forms.RowChangeForm().initial["idem"],
        "just_accepted": request.GET.get("done") == "accepted",
        "travel_km": _distance_text(int(proposal.summary.get("travel_m") or 0)),
        "nav": "dispatch",
    }
    return render(request, "web/station/dispatch.html", context, status=_status(None, error))


@area_required("station")
def dispatch_row(request: HttpRequest, pk: int, row_pk: int) -> HttpResponse:
    """Another volunteer for one row: the need's ranked candidates, best first; or nobody."""
    user = _user(request)
    proposal = _proposal(user, pk)
    row = get_object_or_404(
        ProposalRow.objects.select_related(
            "need__elder", "need__item", "need__item_version", "need__region", "volunteer"
        ),
        pk=row_pk,
        proposal=proposal,
    )
    error = ""
    if request.method == "POST":
        form = station_forms.RowChangeForm(request.POST)
        if (again := _already(request, form)) is not None:
            return again
        if form.is_valid() and form.cleaned_data["row"] == row.pk:
            error = _change_row(request, proposal, form)
            if not error:
                url = reverse("web:station:dispatch", args=[proposal.pk]) + f"#row-{row.pk}"
                return _remember(request, form, url)
        else:
            error = "; ".join(str(e) for errs in form.errors.values() for e in errs) or _(
                "That change was not understood. Nothing was changed."
            )
    draft = proposal.status == DispatchProposal.Status.DRAFT
    ranked, refusal = _ranked(row.need) if draft else ([], "")
    others = [
        r
        for r in proposal.rows.select_related("need").exclude(pk=row.pk).filter(included=True, volunteer__isnull=False)
        if _overlaps(r.need, row.need)
    ]
    busy = {r.volunteer_id for r in others}
    candidates = [
        {"volunteer": c.volunteer, "distance_m": c.distance_m, "why": c.explanation, "busy": c.volunteer.pk in busy}
        for c in ranked
    ]
    context = {
        "proposal": proposal,
        "row": row,
        "need": row.need,
        "elder_short": short_name(row.need.elder.name),
        "why": matching_selectors.explanation(row.reasons),
        "candidates": candidates,
        "refusal": refusal,
        "draft": draft,
        "error": error,
        "idem": station_forms.RowChangeForm().initial["idem"],
        "nav": "dispatch",
    }
    return render(request, "web/station/dispatch_row.html", context, status=_status(None, error))


@area_required("station")
def dispatch_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what accepting will book (the confirmation step). POST: book each row through the care services."""
    user = _user(request)
    proposal = _proposal(user, pk)
    detail = reverse("web:station:dispatch", args=[proposal.pk])
    error = ""
    if request.method == "POST":
        form = station_forms.AcceptForm(request.POST)
        if (again := _already(request, form)) is not None:
            return again
        if form.is_valid():
            try:
                matching.proposal_accept(actor=user, proposal=proposal)
            except DomainError as exc:
                error = exc.text
            else:
                return _remember(request, form, detail + "?done=accepted")
        else:
            error = _("The page was out of date. Look at the plan again and accept once more.")
        proposal.refresh_from_db()
    if proposal.status != DispatchProposal.Status.DRAFT and not error:
        return redirect(detail)
    rows = _rows(proposal)
    context = {
        "proposal": proposal,
        "to_book": [r for r in rows if r.included and r.volunteer_id is not None],
        "left_out": [r for r in rows if not r.included or r.volunteer_id is None],
        "error": error,
        "draft": proposal.status == DispatchProposal.Status.DRAFT,
        "idem": station_forms.AcceptForm().initial["idem"],
        "nav": "dispatch",
    }
    return render(request, "web/station/dispatch_accept.html", context, status=_status(None, error))
