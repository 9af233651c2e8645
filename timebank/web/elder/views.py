"""The elder area: for an elder, or a family proxy acting for one (few steps, big buttons, plain words).

Every page after the first carries the elder's id; :func:`_elder` checks it is one of ``elders_for(user)``
(else the 404 page). Views check the shape of the input and call one service; the services hold the rules.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from timebank.care import services as care
from timebank.care.cards import card_reissue_pdf, card_station
from timebank.care.models import ElderCard, Item, Need, Rating, Visit
from timebank.care.selectors import catalogue, needs_visible_to, visits_visible_to, volunteer_record
from timebank.common.errors import DomainError
from timebank.common.selectors import policy_value
from timebank.ledger import services as ledger
from timebank.ledger.selectors import hours, resident_balance, statement_recent
from timebank.people.models import Resident, User
from timebank.people.selectors import can_manage_resident, eligibility, relatives_of
from timebank.people.services import LANGUAGES
from timebank.web.access import area_required, elders_for

from .forms import COMMON_ITEMS, RATING_TAGS, ConfirmForm, GiveForm, RateForm, WhenForm, put_domain_error

VS = Visit.Status


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _elder(request: HttpRequest, elder_id: int) -> Resident:
    """The elder of the URL, if the user may act for them; otherwise the 404 page."""
    for elder in elders_for(_user(request)):
        if elder.pk == elder_id:
            return elder
    raise Http404


def _ctx(request: HttpRequest, elder: Resident, **extra: Any) -> dict[str, Any]:
    user = _user(request)
    return {"elder": elder, "for_someone_else": user.resident_id != elder.pk, **extra}


def item_label(item: Item) -> str:
    return item.name_en if (get_language() or "").startswith("en") else item.name


# --------------------------------------------------------------------------------------------- start


@area_required("elder")
def index(request: HttpRequest) -> HttpResponse:
    """One elder: straight to their page. Several (a proxy for both parents): choose first."""
    elders = elders_for(_user(request))
    if len(elders) == 1:
        return redirect("web:elder:home", elder_id=elders[0].pk)
    return render(request, "web/elder/index.html", {"elders": elders})


@area_required("elder")
def home(request: HttpRequest, elder_id: int) -> HttpResponse:
    elder = _elder(request, elder_id)
    several = len(elders_for(_user(request))) > 1
    return render(
        request,
        "web/elder/home.html",
        _ctx(request, elder, several=several, balance_hours=hours(resident_balance(elder).posted)),
    )


# --------------------------------------------------------------------------------------------- ask for help


@area_required("elder")
def ask(request: HttpRequest, elder_id: int) -> HttpResponse:
    """Step 1: big picture buttons, the most asked services first."""
    elder = _elder(request, elder_id)
    items = list(catalogue())
    rank = {code: i for i, code in enumerate(COMMON_ITEMS)}
    common = sorted((i for i in items if i.code in rank), key=lambda i: rank[i.code])
    others = [i for i in items if i.code not in rank]

    def as_buttons(found: list[Item]) -> list[dict[str, Any]]:
        return [{"item": i, "label": item_label(i)} for i in found]

    return render(
        request, "web/elder/ask_item.html", _ctx(request, elder, common=as_buttons(common), others=as_buttons(others))
    )


def _own_hours_offer(elder: Resident, item: Item) -> tuple[bool, Any]:
    """Offer "pay with stored hours" only when the elder may redeem and the balance covers the usual visit."""
    version = care.item_current_version(item)
    estimate = ledger.credited_minutes(version.default_minutes, version.coefficient)
    offer = eligibility(elder).may_redeem and resident_balance(elder).available >= estimate
    return offer, hours(estimate)


@area_required("elder")
@require_http_methods(["GET", "POST"])
def ask_when(request: HttpRequest, elder_id: int, code: str) -> HttpResponse:
    """Step 2: when (big buttons), a note; on success the need is published and step 3 shows it."""
    elder = _elder(request, elder_id)
    item = catalogue().filter(code=code).first()
    if item is None:
        raise Http404
    offer, estimate = _own_hours_offer(elder, item)
    form = WhenForm(request.POST if request.method == "POST" else None, offer_own_hours=offer)
    if request.method == "POST" and form.is_valid():
        start, end = form.window()
        try:
            [need, *_rest] = care.need_publish(
                actor=_user(request),
                elder=elder,
                item=item,
                window_start=start,
                window_end=end,
                notes=form.cleaned_data.get("notes") or "",
                payer=Need.Payer.OWN if form.cleaned_data.get("own_hours") else None,
            )
        except DomainError as exc:
            put_domain_error(form, exc, form.error_field_for())
        else:
            return redirect("web:elder:ask_done", elder_id=elder.pk, need_id=need.pk)
    return render(
        request,
        "web/elder/ask_when.html",
        _ctx(request, elder, item=item, label=item_label(item), form=form, estimate=estimate),
        status=400 if form.is_bound and form.errors else 200,
    )


@area_required("elder")
def ask_done(request: HttpRequest, elder_id: int, need_id: int) -> HttpResponse:
    """Step 3: done; who pays, in plain words, and what happens next."""
    elder = _elder(request, elder_id)
    need = needs_visible_to(_user(request)).filter(elder=elder, pk=need_id).first()
    if need is None:
        raise Http404
    estimate = hours(need.minutes_reserved) if need.payer == Need.Payer.OWN else None
    return render(
        request,
        "web/elder/ask_done.html",
        _ctx(request, elder, need=need, label=item_label(need.item), estimate=estimate),
    )


# --------------------------------------------------------------------------------------------- visits


def _status_words(status: str) -> tuple[str, str]:
    """(css class, words) of a visit status or "open" for a need still waiting."""
    words = {
        "open": ("waiting", _("Waiting for a volunteer")),
        VS.ASSIGNED: ("coming", _("A volunteer is coming")),
        VS.CHECKED_IN: ("here", _("The volunteer is with you now")),
        VS.CHECKED_OUT: ("todo", _("Finished: please confirm")),
        VS.CONFIRMED: ("todo", _("Confirmed: please give stars")),
        VS.DISPUTED: ("held", _("The station is looking into it")),
        VS.RATED: ("done", _("Done")),
        VS.VOIDED: ("done", _("Not paid after the complaint")),
    }
    return words.get(status, ("done", str(Visit.Status(status).label) if status in VS.values else status))


def _languages(resident: Resident) -> str:
    return "、".join(str(LANGUAGES.get(code, code)) for code in resident.languages or [])


def _elder_visits(request: HttpRequest, elder: Resident) -> QuerySet[Visit]:
    return visits_visible_to(_user(request)).filter(need__elder=elder)


def _visit(request: HttpRequest, elder: Resident, visit_id: int) -> Visit:
    visit = _elder_visits(request, elder).select_related("need__item_version").filter(pk=visit_id).first()
    if visit is None:
        raise Http404
    return visit


def _visit_row(visit: Visit, records: dict[int, dict[str, object]]) -> dict[str, Any]:
    if visit.volunteer_id not in records:
        records[visit.volunteer_id] = volunteer_record(visit.volunteer)
    record = records[visit.volunteer_id]
    css, words = _status_words(visit.status)
    rating = record["rating"]
    return {
        "visit": visit,
        "need": visit.need,
        "label": item_label(visit.need.item),
        "css": css,
        "words": words,
        "volunteer": visit.volunteer,
        "rating": f"{rating:.1f}" if isinstance(rating, int | float) else None,
        "served": record["visits"],
        "languages": _languages(visit.volunteer),
        "hours": hours(visit.actual_minutes) if visit.actual_minutes else None,
    }


@area_required("elder")
def visits(request: HttpRequest, elder_id: int) -> HttpResponse:
    """To do first (confirm, give stars), then what is coming, then the last few done."""
    elder = _elder(request, elder_id)
    records: dict[int, dict[str, object]] = {}
    live = _elder_visits(request, elder).order_by("need__window_start", "pk")
    todo = [_visit_row(v, records) for v in live.filter(status__in=[VS.CHECKED_OUT, VS.CONFIRMED, VS.DISPUTED])]
    coming = [_visit_row(v, records) for v in live.filter(status__in=[VS.ASSIGNED, VS.CHECKED_IN])]
    waiting = [
        {"need": n, "label": item_label(n.item), "css": "waiting", "words": _status_words("open")[1]}
        for n in needs_visible_to(_user(request))
        .filter(elder=elder, status=Need.Status.OPEN, window_end__gt=timezone.now())
        .order_by("window_start")
    ]
    done = [
        _visit_row(v, records)
        for v in _elder_visits(request, elder)
        .filter(status__in=[VS.RATED, VS.VOIDED])
        .order_by("-need__window_start")[:3]
    ]
    return render(
        request, "web/elder/visits.html", _ctx(request, elder, todo=todo, coming=coming, waiting=waiting, done=done)
    )


@area_required("elder")
@require_http_methods(["GET", "POST"])
def visit_confirm(request: HttpRequest, elder_id: int, visit_id: int) -> HttpResponse:
    """Confirm a finished visit (the volunteer is paid), or say what was wrong (the hours are held)."""
    elder = _elder(request, elder_id)
    visit = _visit(request, elder, visit_id)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["action"] == "confirm":
                care.visit_confirm(actor=_user(request), visit=visit)
                return redirect("web:elder:visit_rate", elder_id=elder.pk, visit_id=visit.pk)
            care.visit_dispute(actor=_user(request), visit=visit, complaint=form.cleaned_data["complaint"])
            messages.success(request, _("Thank you. The station will look into it; the hours wait until then."))
            return redirect("web:elder:visits", elder_id=elder.pk)
        except DomainError as exc:
            put_domain_error(form, exc, {}, default="complaint" if form.cleaned_data["action"] == "dispute" else None)
    if visit.status in (VS.CONFIRMED, VS.RATED) and request.method == "GET":
        return redirect("web:elder:visit_rate", elder_id=elder.pk, visit_id=visit.pk)
    return render(
        request,
        "web/elder/visit_confirm.html",
        _ctx(request, elder, row=_visit_row(visit, {}), form=form, can_confirm=visit.status == VS.CHECKED_OUT),
        status=400 if form.is_bound and form.errors else 200,
    )


@area_required("elder")
@require_http_methods(["GET", "POST"])
def visit_rate(request: HttpRequest, elder_id: int, visit_id: int) -> HttpResponse:
    elder = _elder(request, elder_id)
    visit = _visit(request, elder, visit_id)
    rated = visit.ratings.filter(side=Rating.Side.ELDER).first()
    form = RateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and rated is None and form.is_valid():
        data = form.cleaned_data
        try:
            care.visit_rate(
                actor=_user(request), visit=visit, stars=data["stars"], tags=data["tags"], comment=data["comment"]
            )
        except DomainError as exc:
            put_domain_error(form, exc, {"tags": "tags"}, default=None)
        else:
            messages.success(request, _("Thank you for the stars."))
            return redirect("web:elder:visits", elder_id=elder.pk)
    tag_words = dict(RATING_TAGS)
    return render(
        request,
        "web/elder/visit_rate.html",
        _ctx(
            request,
            elder,
            row=_visit_row(visit, {}),
            form=form,
            rated=rated,
            rated_tags=[tag_words.get(t, t) for t in (rated.tags if rated else [])],
            can_rate=visit.status in (VS.CONFIRMED, VS.VOIDED) and rated is None,
        ),
        status=400 if form.is_bound and form.errors else 200,
    )


# --------------------------------------------------------------------------------------------- hours


@area_required("elder")
def statement(request: HttpRequest, elder_id: int) -> HttpResponse:
    elder = _elder(request, elder_id)
    balance = resident_balance(elder)
    lines = statement_recent(ledger.account_for(elder), limit=30).lines
    return render(
        request,
        "web/elder/statement.html",
        _ctx(
            request,
            elder,
            balance_hours=hours(balance.posted),
            held_hours=hours(balance.held_out) if balance.held_out else None,
            lines=lines,
        ),
    )


def _relatives_for_transfer(elder: Resident) -> QuerySet[Any]:
    kinds = list(policy_value("people.transfer_relative_kinds"))
    return relatives_of(elder).filter(kind__in=kinds).order_by("relative__name")


@area_required("elder")
@require_http_methods(["GET", "POST"])
def give(request: HttpRequest, elder_id: int) -> HttpResponse:
    """Give hours to family: the form, then "Give 2 hours to 梁志明? Yes / No", then the ledger (posts once)."""
    elder = _elder(request, elder_id)
    relatives = _relatives_for_transfer(elder)
    form = GiveForm(request.POST if request.method == "POST" else None, relatives=relatives)
    balance_hours = hours(resident_balance(elder).available)
    context = _ctx(request, elder, form=form, balance_hours=balance_hours, has_relatives=relatives.exists())
    answer = request.POST.get("confirm")
    if request.method == "POST" and form.is_valid():
        link = form.cleaned_data["recipient"]
        if answer == "yes":
            try:
                ledger.family_transfer(
                    key=form.cleaned_data["idem"],
                    sender=elder,
                    recipient=link.relative,
                    minutes=form.minutes,
                    actor=_user(request),
                    memo=_("Given in the elder pages"),
                    client=_user(request),
                )
            except DomainError as exc:
                put_domain_error(form, exc, {"recipient": "recipient", "minutes": "hours"}, default="hours")
            else:
                messages.success(
                    request,
                    _("Done: %(hours)s h given to %(name)s.")
                    % {"hours": form.cleaned_data["hours"], "name": link.relative.name},
                )
                return redirect("web:elder:statement", elder_id=elder.pk)
        elif answer != "no":
            context.update(recipient=link.relative, amount=form.cleaned_data["hours"])
            return render(request, "web/elder/give_confirm.html", context)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "web/elder/give.html", context, status=status)


# --------------------------------------------------------------------------------------------- card


@area_required("elder")
@require_http_methods(["GET", "POST"])
def card(request: HttpRequest, elder_id: int) -> HttpResponse:
    """The elder's card. Only station staff may print a new one; the elder and family are told where to ask."""
    elder = _elder(request, elder_id)
    user = _user(request)
    error = None
    if request.method == "POST":
        try:
            pdf = card_reissue_pdf(actor=user, elder=elder)
        except DomainError as exc:
            error = exc.text
        else:
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="card-{elder.pk}.pdf"'
            return response
    live = ElderCard.objects.filter(elder=elder, revoked_at__isnull=True).first()
    return render(
        request,
        "web/elder/card.html",
        _ctx(
            request,
            elder,
            live_card=live,
            station=card_station(elder),
            may_print=can_manage_resident(user, elder),
            error=error,
            action=reverse("web:elder:card", args=[elder.pk]),
        ),
        status=403 if error else 200,
    )
