"""My data (我的信息): what the time bank holds about me, a copy to download, corrections, leaving; and the
staff queue of correction requests. The rules are in the services and selectors (docs/privacy.md)."""

from __future__ import annotations

import json

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from timebank.common.errors import DomainError
from timebank.ledger.selectors import hours
from timebank.people import privacy as people_privacy
from timebank.people.models import CorrectionRequest, Departure, Resident, User
from timebank.people.privacy_selectors import (
    correction_queue,
    correction_requests_answerable_by,
    correction_requests_of,
    may_answer_corrections,
)
from timebank.people.selectors import can_manage_resident, resident_search, residents_visible_to
from timebank.privacy import services
from timebank.privacy.selectors import data_held, data_held_json
from timebank.web.forms_support import add_domain_error

from .forms import AnswerForm, CorrectionForm, DepartureForm


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _mine(request: HttpRequest, form: CorrectionForm | None = None, *, status: int = 200) -> HttpResponse:
    user = _user(request)
    resident = user.resident
    context: dict[str, object] = {"resident": resident, "done": request.GET.get("done", "")}
    if resident is not None:
        context.update(
            sections=data_held(resident),
            requests=correction_requests_of(resident)[:20],
            form=form or CorrectionForm(),
        )
    response = render(request, "web/privacy/mine.html", context, status=status)
    add_never_cache_headers(response)  # personal data: not kept in shared caches
    return response


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    return _mine(request)


@login_required
def download(request: HttpRequest) -> HttpResponse:
    resident = _user(request).resident
    if resident is None:
        raise Http404
    body = json.dumps(data_held_json(resident), ensure_ascii=False, indent=2, default=str)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="timebank-my-data-{day}.json"'
    add_never_cache_headers(response)
    return response


@require_POST
@login_required
def correct(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    resident = user.resident
    if resident is None:
        raise Http404
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            people_privacy.correction_request_create(
                actor=user,
                resident=resident,
                field=form.cleaned_data["field"],
                new_value=form.cleaned_data["new_value"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return _mine(request, form, status=exc.status)
        return redirect(reverse("web:privacy:mine") + "?done=asked#requests")
    return _mine(request, form, status=400)


@login_required
def leave(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    resident: Resident | None = user.resident
    if resident is None:
        raise Http404
    free, held = services.hours_to_leave(resident)
    context: dict[str, object] = {"resident": resident, "free_hours": hours(free), "held": held}
    if request.method == "POST" and request.POST.get("step") == "confirm":
        try:
            services.resident_leave(actor=user, resident=resident, reason="asked", erase_now=True)
        except DomainError as exc:
            context["error"] = exc.text
            return render(request, "web/privacy/leave.html", context, status=exc.status)
        logout(request)
        return render(request, "web/privacy/left.html", {"free_hours": hours(free)})
    return render(request, "web/privacy/leave.html", context)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not may_answer_corrections(user):
        raise PermissionDenied
    rows = list(correction_queue(user)[:200])
    return render(request, "web/privacy/queue.html", {"rows": rows, "done": request.GET.get("done", "")})


def _current_value(req: CorrectionRequest) -> str:
    r = req.resident
    if req.field == CorrectionRequest.Field.PHONE:
        return f"{r.phone[:-8]}****{r.phone[-4:]}" if len(r.phone) > 8 else r.phone
    if req.field == CorrectionRequest.Field.LANGUAGES:
        return " ".join(r.languages)
    if req.field in (CorrectionRequest.Field.NAME, CorrectionRequest.Field.ADDRESS):
        return str(getattr(r, req.field))
    return ""


@login_required
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if not may_answer_corrections(user):
        raise PermissionDenied
    req = correction_requests_answerable_by(user).filter(pk=pk).first()
    if req is None:
        raise Http404  # outside the area: as if it did not exist
    form = AnswerForm(request.POST or None)
    status = 200
    if request.method == "POST" and req.status == CorrectionRequest.Status.OPEN:
        if form.is_valid():
            try:
                services.correction_answer(
                    actor=user,
                    request=req,
                    accept=form.cleaned_data["decision"] == "accept",
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                return redirect(reverse("web:privacy:queue") + "?done=answered")
        else:
            status = 400
    context = {"req": req, "form": form, "current": _current_value(req)}
    return render(request, "web/privacy/answer.html", context, status=status)


def _manageable(user: User, pk: int) -> Resident:
    resident = residents_visible_to(user).filter(pk=pk).first()
    if resident is None or not can_manage_resident(user, resident):
        raise Http404  # outside the area: as if it did not exist
    return resident


@login_required
def departures(request: HttpRequest) -> HttpResponse:
    """Staff: find a person of the area to record that they left (moved, died, asked at the station)."""
    user = _user(request)
    if not may_answer_corrections(user):
        raise PermissionDenied
    query = request.GET.get("q", "")[:64]
    found = [r for r in resident_search(user, query, limit=20) if can_manage_resident(user, r)] if query else []
    left = set(Departure.objects.filter(resident__in=found).values_list("resident_id", flat=True))
    rows = [(r, r.pk in left) for r in found]
    context = {"q": query, "rows": rows, "done": request.GET.get("done", "")}
    return render(request, "web/privacy/departures.html", context)


@login_required
def departure_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if not may_answer_corrections(user):
        raise PermissionDenied
    resident = _manageable(user, pk)
    free, held = services.hours_to_leave(resident)
    form = DepartureForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.resident_leave(
                    actor=user,
                    resident=resident,
                    reason=form.cleaned_data["reason"],
                    erase_now=form.cleaned_data["erase_now"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                return redirect(reverse("web:privacy:departures") + "?done=recorded")
        else:
            status = 400
    context = {"person": resident, "form": form, "free_hours": hours(free), "held": held}
    return render(request, "web/privacy/departure_new.html", context, status=status)
