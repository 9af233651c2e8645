"""The volunteer area: needs nearby, my visits, check-in/out, my hours, star level, certificates, giving hours.

Each view checks the form and calls one service or selector; a service's refusal is shown next to the field
it concerns, in the reader's language, with what was typed kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from timebank.care import services as care
from timebank.care.errors import IllegalTransition
from timebank.care.models import Need, Visit
from timebank.care.selectors import applied_need_ids, open_needs_near, volunteer_schedule, volunteer_visits
from timebank.common.errors import DomainError
from timebank.common.selectors import policy_value
from timebank.ledger import services as ledger
from timebank.ledger.selectors import group_balance, hours, resident_balance, statement_recent
from timebank.people.models import Resident, User
from timebank.people.selectors import relatives_of
from timebank.rewards import selectors as rewards
from timebank.rewards.selectors import star_level
from timebank.training.selectors import certificates_expiring, other_certificates, valid_certificates
from timebank.web.access import area_required
from timebank.web.forms_support import add_domain_error

from .forms import POOL, CheckInForm, CheckOutForm, DeclineForm, GiveForm

VS = Visit.Status


def _me(request: HttpRequest) -> tuple[User, Resident]:
    user: User = request.user  # type: ignore[assignment]
    assert user.resident is not None  # area_required("volunteer") let them in
    return user, user.resident


def when_words(start: dt.datetime, end: dt.datetime) -> str:
    """A time window in plain words: "Today, 15:00–17:00", "Tomorrow, …", "Friday 5 December, …"."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    today = timezone.localdate()
    days = (start.date() - today).days
    if days == 0:
        day = _("Today")
    elif days == 1:
        day = _("Tomorrow")
    elif days == -1:
        day = _("Yesterday")
    else:
        month_day = formats.date_format(start, "MONTH_DAY_FORMAT").lstrip("0")  # "9月17日", not "09月17日"
        day = f"{formats.date_format(start, 'l')} {month_day}"
        if start.year != today.year:
            day = f"{start.year} {day}"
    until = end.strftime("%H:%M")
    if end.date() != start.date():
        until = f"{formats.date_format(end, 'MONTH_DAY_FORMAT').lstrip('0')} {until}"
    # The punctuation belongs to the language: "Tomorrow, 15:00–17:00" / "明天 15:00–17:00".
    return _("%(day)s, %(start)s–%(end)s") % {"day": day, "start": f"{start:%H:%M}", "end": until}


def payer_words(need: Need) -> str:
    return {
        Need.Payer.OWN: _("Paid with the elder's own stored hours"),
        Need.Payer.POOL: _("Paid by the public time pool"),
        Need.Payer.GOVERNMENT: _("Paid by the government"),
    }.get(Need.Payer(need.payer), need.get_payer_display())


def _visit_row(visit: Visit) -> dict[str, Any]:
    return {"visit": visit, "when": when_words(visit.need.window_start, visit.need.window_end)}


# --------------------------------------------------------------------------------------------- index


@area_required("volunteer")
def index(request: HttpRequest) -> HttpResponse:
    _user, me = _me(request)
    upcoming, _past = volunteer_schedule(me, past_limit=0)
    context = {
        "volunteer": me,
        "next": _visit_row(upcoming[0]) if upcoming else None,
        "stars": star_level(me),
        "balance_hours": hours(resident_balance(me).posted),
    }
    return render(request, "web/volunteer/index.html", context)


# --------------------------------------------------------------------------------------------- needs


def _needs_page(request: HttpRequest, me: Resident, *, refused: dict[int, str] | None = None) -> HttpResponse:
    applied = applied_need_ids(me)
    rows = [
        {
            "need": need,
            "km": f"{metres / 1000:.1f}",
            "when": when_words(need.window_start, need.window_end),
            "payer": payer_words(need),
            "applied": need.pk in applied,
            "refused": (refused or {}).get(need.pk),
        }
        for need, metres in open_needs_near(me)
    ]
    status = 400 if refused else 200
    return render(request, "web/volunteer/needs.html", {"rows": rows, "has_home": me.lat is not None}, status=status)


@area_required("volunteer")
def needs(request: HttpRequest) -> HttpResponse:
    _user, me = _me(request)
    return _needs_page(request, me)


@area_required("volunteer")
@require_POST
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    user, me = _me(request)
    need = get_object_or_404(Need.objects.select_related("item_version", "elder"), pk=pk)
    try:
        care.application_apply(actor=user, need=need)
    except DomainError as exc:
        return _needs_page(request, me, refused={need.pk: exc.text})
    messages.success(
        request, _("You applied for “%(item)s”. The station will tell you when you are chosen.") % {"item": need.item}
    )
    return redirect("web:volunteer:needs")


# --------------------------------------------------------------------------------------------- schedule


@area_required("volunteer")
def schedule(request: HttpRequest) -> HttpResponse:
    _user, me = _me(request)
    upcoming, past = volunteer_schedule(me)
    return render(
        request,
        "web/volunteer/schedule.html",
        {"upcoming": [_visit_row(v) for v in upcoming], "past": [_visit_row(v) for v in past]},
    )


def _my_visit(me: Resident, pk: int) -> Visit:
    """The volunteer's own visit; someone else's is a 404 (we do not say it exists)."""
    return get_object_or_404(volunteer_visits(me), pk=pk)


@area_required("volunteer")
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    user, me = _me(request)
    visit = _my_visit(me, pk)
    form = DeclineForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                care.visit_decline(actor=user, visit=visit, reason=form.cleaned_data["reason"])
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The visit is cancelled. The station will look for someone else."))
                return redirect("web:volunteer:schedule")
        status = 400
    context = {"row": _visit_row(visit), "form": form, "can_decline": visit.status == VS.ASSIGNED}
    return render(request, "web/volunteer/decline.html", context, status=status)


# --------------------------------------------------------------------------------------------- on site


def _visit_page(
    request: HttpRequest,
    visit: Visit,
    *,
    check_in: CheckInForm | None = None,
    check_out: CheckOutForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "row": _visit_row(visit),
        "need": visit.need,
        "payer": payer_words(visit.need),
        "check_in": check_in or CheckInForm(),
        "check_out": check_out or CheckOutForm(),
        "max_distance": policy_value("care.checkin_max_distance_m"),
        "credited_hours": hours(visit.credited_minutes) if visit.credited_minutes else None,
        "actual_hours": hours(visit.actual_minutes) if visit.actual_minutes else None,
    }
    return render(request, "web/volunteer/visit.html", context, status=status)


def _add_site_error(form: forms.Form, exc: DomainError, field: str) -> None:
    """Errors about the code go next to the code; about place or time, at the top of the form."""
    if exc.field == "code":
        form.add_error(field, forms.ValidationError(exc.text, code=exc.code))
    else:
        form.add_error(None, forms.ValidationError(exc.text, code=exc.code))


@area_required("volunteer")
def visit(request: HttpRequest, pk: int) -> HttpResponse:
    _user, me = _me(request)
    return _visit_page(request, _my_visit(me, pk))


@area_required("volunteer")
@require_POST
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    user, me = _me(request)
    visit = _my_visit(me, pk)
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            care.visit_check_in(
                actor=user, visit=visit, code=form.code, lat=form.cleaned_data["lat"], lon=form.cleaned_data["lon"]
            )
        except IllegalTransition:
            if visit.status == VS.CHECKED_IN:  # a second press of the button: already done
                return redirect("web:volunteer:visit", pk=visit.pk)
            form.add_error(None, forms.ValidationError(_("This visit cannot be checked in now."), "state"))
        except DomainError as exc:
            _add_site_error(form, exc, "pin")
        else:
            messages.success(request, _("You are checked in. Press “Check out” when you leave."))
            return redirect("web:volunteer:visit", pk=visit.pk)
    visit.refresh_from_db()
    return _visit_page(request, visit, check_in=form, status=400)


@area_required("volunteer")
@require_POST
def check_out(request: HttpRequest, pk: int) -> HttpResponse:
    user, me = _me(request)
    visit = _my_visit(me, pk)
    form = CheckOutForm(request.POST)
    if form.is_valid():
        try:
            done = care.visit_check_out(
                actor=user, visit=visit, lat=form.cleaned_data["lat"], lon=form.cleaned_data["lon"]
            )
        except IllegalTransition:
            if visit.status in (VS.CHECKED_OUT, VS.TOO_SHORT):  # pressed twice
                return redirect("web:volunteer:visit", pk=visit.pk)
            form.add_error(None, forms.ValidationError(_("This visit cannot be checked out now."), "state"))
        except DomainError as exc:
            _add_site_error(form, exc, "lat")
        else:
            if done.status == VS.TOO_SHORT:  # closed at once: nothing to confirm, nothing paid
                messages.warning(
                    request,
                    _(
                        "You are checked out. The visit lasted only %(minutes)s minutes, too short to earn hours, "
                        "so no hours are paid for it."
                    )
                    % {"minutes": done.actual_minutes},
                )
            else:
                messages.success(request, _("You are checked out. The elder or the station will confirm the visit."))
            return redirect("web:volunteer:visit", pk=visit.pk)
    visit.refresh_from_db()
    return _visit_page(request, visit, check_out=form, status=400)


# --------------------------------------------------------------------------------------------- hours


@area_required("volunteer")
def my_hours(request: HttpRequest) -> HttpResponse:
    _user, me = _me(request)
    balance = resident_balance(me)
    group = group_balance(me)
    context = {
        "balance": balance,
        "balance_hours": hours(balance.posted),
        "held_hours": hours(balance.held_out) if balance.held_out else None,
        "group_hours": hours(group.posted) if group.posted else None,
        "statement": statement_recent(ledger.account_for(me), limit=30),
    }
    return render(request, "web/volunteer/hours.html", context)


@area_required("volunteer")
def stars(request: HttpRequest) -> HttpResponse:
    _user, me = _me(request)
    level = star_level(me)
    reached = {row.level: row.reached_on for row in rewards.levels_reached(me)}
    steps = [
        {"stars": n, "hours": h, "reached": level.stars >= n, "on": reached.get(n)}
        for n, h in enumerate(level.thresholds_hours, 1)
    ]
    context = {
        "level": level,
        "steps": steps,
        "held": rewards.entitlements_of(me),
        "claimable": rewards.claimable_kinds(me, level),
        "honours": me.honours.filter(withdrawn_at__isnull=True).order_by("-year"),
    }
    return render(request, "web/volunteer/stars.html", context)


@area_required("volunteer")
def certificates(request: HttpRequest) -> HttpResponse:
    _user, me = _me(request)
    valid = list(valid_certificates(me).order_by("valid_until"))
    words = {"withdrawn": _("withdrawn"), "not_yet": _("not valid yet"), "expired": _("expired")}
    others = [{"cert": cert, "why": words[why]} for cert, why in other_certificates(me)]
    expiring = list(certificates_expiring(me))
    return render(request, "web/volunteer/certificates.html", {"valid": valid, "others": others, "expiring": expiring})


# --------------------------------------------------------------------------------------------- giving hours


@area_required("volunteer")
def give(request: HttpRequest) -> HttpResponse:
    """Step 1: choose who and how much; step 2 (``step=review``): confirm; then ``step=confirm`` posts once."""
    user, me = _me(request)
    relatives = list(relatives_of(me).order_by("relative__name"))
    balance = resident_balance(me)
    group = group_balance(me)
    form = GiveForm(request.POST or None, relatives=relatives)
    step = request.POST.get("step", "")
    context: dict[str, Any] = {
        "form": form,
        "available_hours": hours(balance.available),
        "group_hours": hours(group.available) if group.available else None,
    }
    if request.method != "POST":
        return render(request, "web/volunteer/give.html", context)
    if not form.is_valid() or step not in ("review", "confirm") or request.POST.get("change"):
        status = 200 if request.POST.get("change") and form.is_valid() else 400
        return render(request, "web/volunteer/give.html", context, status=status)
    recipient = form.recipient
    to_pool = form.cleaned_data["to"] == POOL
    context |= {
        "to_pool": to_pool,
        "recipient": recipient,
        "amount": form.cleaned_data["amount"],
        "from_group": form.cleaned_data["from_group"],
    }
    if step == "review":
        return render(request, "web/volunteer/give_confirm.html", context)
    try:
        key = form.cleaned_data["idem"]
        if to_pool:
            ledger.donate(
                key=key,
                donor=me,
                minutes=form.minutes,
                from_group_hours=form.cleaned_data["from_group"],
                actor=user,
                memo=_("Donation from the volunteer pages"),
                client=user,
            )
        else:
            assert recipient is not None
            ledger.family_transfer(
                key=key, sender=me, recipient=recipient.relative, minutes=form.minutes, actor=user, client=user
            )
    except DomainError as exc:
        add_domain_error(form, exc)
        return render(request, "web/volunteer/give.html", context, status=400)
    if to_pool:
        text = _("Thank you. You gave %(h)s hours to the public time pool.") % {"h": form.cleaned_data["amount"]}
    else:
        assert recipient is not None
        text = _("Done. You gave %(h)s hours to %(name)s.") % {
            "h": form.cleaned_data["amount"],
            "name": recipient.relative.name,
        }
    messages.success(request, text)
    return redirect("web:volunteer:hours")
