"""Training pages (培训).

Volunteers: sessions open to join (nearest first), joining and leaving with a confirmation step, my trainings
with the place on the waiting list, and a warning about certificates that end soon.

Staff (social workers and town administrators in their area, city supervisors everywhere): sessions in my
area, planning one, a session's page (people enrolled and waiting, add a person, seats, cancel), the
attendance sheet and the results, certificates that end soon in my area, and the year's targets per track
and town with progress (town administrators and city supervisors set them). City supervisors also keep the
course catalogue: the list of courses, a new course, stopping or resuming a course's offer (each after a
confirmation step; who may is ``training.services.may_manage_courses``, the services check it again).

Each view checks its form, calls one service or selector and words the result; a service's refusal is shown
next to the field it concerns with status 400, and nothing was written. Anything outside the reader's area
is the site's 404 page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from timebank.common.errors import DomainError
from timebank.people.models import Resident, StaffRole, User
from timebank.people.selectors import active_roles, can_manage_region, resident_search
from timebank.places.models import Region, Site
from timebank.training import selectors, services
from timebank.training.models import Enrolment, Session
from timebank.web.access import area_required, can_use
from timebank.web.forms_support import add_domain_error

from .forms import AddPersonForm, CancelSessionForm, CapacityForm, CourseForm, SessionForm, TargetForm

ES = Enrolment.Status


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _me(request: HttpRequest) -> Resident:
    me = _user(request).resident
    assert me is not None  # area_required("volunteer") let them in
    return me


def _km(metres: float | None) -> str | None:
    return None if metres is None else f"{metres / 1000:.1f}"


# --------------------------------------------------------------------------------------------- volunteers


def _session_row(session: Session, metres: float | None = None) -> dict[str, Any]:
    return {
        "session": session,
        "km": _km(metres),
        "seats_left": max(session.capacity - session.enrolled_count, 0),
        "hours": session.course.teaching_minutes // 60,
    }


@area_required("volunteer")
def index(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    mine = selectors.my_enrolments(me)
    joined = {e.session_id for e, _pos in mine}
    now = timezone.now()
    context = {
        "expiring": list(selectors.certificates_expiring(me)),
        "warning_days": selectors.expiry_warning_days(),
        "upcoming": [{"e": e, "position": pos} for e, pos in mine if e.session.starts_at > now],
        "past": [{"e": e, "position": pos} for e, pos in mine if e.session.starts_at <= now][:10],
        "sessions": [_session_row(s, m) for s, m in selectors.open_sessions_near(me) if s.pk not in joined],
    }
    return render(request, "web/training/index.html", context)


def _open_session(pk: int) -> Session:
    return get_object_or_404(Session.objects.select_related("course", "site"), pk=pk, status=Session.Status.OPEN)


@area_required("volunteer")
def join(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what joining means (a seat or the waiting list); POST: join."""
    me = _me(request)
    session = _open_session(pk)
    context: dict[str, Any] = {"row": _session_row(session), "error": None}
    if request.method == "POST":
        try:
            enrolment = services.enrolment_create(actor=_user(request), session=session, resident=me)
        except DomainError as exc:
            context["error"] = exc.text
            return render(request, "web/training/join.html", context, status=400)
        if enrolment.status == ES.ENROLLED:
            messages.success(request, _("You are enrolled. Please come on time."))
        else:
            messages.success(
                request,
                _("Every seat is taken: you are number %(n)s on the waiting list. We will tell you if a seat frees.")
                % {"n": selectors.waiting_position(enrolment)},
            )
        return redirect("web:training:index")
    return render(request, "web/training/join.html", context)


@area_required("volunteer")
def leave(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: are you sure; POST: leave the session or its waiting list."""
    me = _me(request)
    enrolment = get_object_or_404(
        Enrolment.objects.select_related("session__course", "session__site").exclude(status=ES.CANCELLED),
        pk=pk,
        resident=me,
    )
    context: dict[str, Any] = {"e": enrolment, "position": selectors.waiting_position(enrolment), "error": None}
    if request.method == "POST":
        try:
            services.enrolment_cancel(actor=_user(request), enrolment=enrolment)
        except DomainError as exc:
            context["error"] = exc.text
            return render(request, "web/training/leave.html", context, status=400)
        messages.success(request, _("You have left the training. Your seat goes to the next person waiting."))
        return redirect("web:training:index")
    return render(request, "web/training/leave.html", context)


# --------------------------------------------------------------------------------------------- staff


def can_manage_training(user: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or can_use(user, "station"):
        return True
    return any(r.role == StaffRole.Role.CITY_SUPERVISOR for r in active_roles(user))


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_manage_training(_user(request)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _render_staff(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """``render`` for the staff pages: the sub-navigation shows "Courses" to those who keep the catalogue."""
    context = {"courses_link": services.may_manage_courses(_user(request))} | context
    return render(request, template, context, status=status)


def _sites(user: User) -> QuerySet[Site]:
    sites = Site.objects.filter(active=True).select_related("region").order_by("region__path", "code")
    if user.is_superuser:
        return sites
    paths = [r.region.path for r in active_roles(user) if r.role != StaffRole.Role.PARTNER_ADMIN]
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(region__path__startswith=path)
    return sites.filter(q)


@staff_required
def staff(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    sessions = selectors.sessions_visible_to(user)
    context = {
        "nav": "sessions",
        "coming": list(sessions.filter(starts_at__gt=now).order_by("starts_at", "pk")[:100]),
        "past": list(sessions.filter(starts_at__lte=now).order_by("-starts_at", "pk")[:30]),
        "expiring_count": selectors.certificates_expiring_visible_to(user).count(),
    }
    return _render_staff(request, "web/training/staff.html", context)


@staff_required
def session_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = SessionForm(request.POST or None, courses=selectors.courses_offered(), sites=_sites(user))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = services.session_create(
                    actor=user,
                    course=data["course"],
                    site=data["site"],
                    trainer=data["trainer"],
                    capacity=data["capacity"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The session is planned. Volunteers can now join it."))
                return redirect("web:training:session", pk=session.pk)
        status = 400
    return _render_staff(request, "web/training/session_new.html", {"nav": "new", "form": form}, status=status)


def _session(user: User, pk: int) -> Session:
    return get_object_or_404(selectors.sessions_visible_to(user), pk=pk)


def _session_page(request: HttpRequest, session: Session, *, status: int = 200, **forms: Any) -> HttpResponse:
    rows = selectors.session_enrolments(session)
    enrolled = [e for e in rows if e.status == ES.ENROLLED]
    waiting = [e for e in rows if e.status == ES.WAITING]
    started = session.starts_at <= timezone.now()
    context = {
        "nav": "sessions",
        "session": session,
        "enrolled": enrolled,
        "waiting": waiting,
        "to_assess": [e for e in enrolled if e.attended and e.passed is None],
        "started": started,
        "open": session.status == Session.Status.OPEN,
        "add_form": forms.get("add_form") or AddPersonForm(initial={"wait": True}),
        "capacity_form": forms.get("capacity_form") or CapacityForm(initial={"capacity": session.capacity}),
        "cancel_form": forms.get("cancel_form") or CancelSessionForm(),
        "sheet_error": forms.get("sheet_error"),
    }
    return _render_staff(request, "web/training/session.html", context, status=status)


@staff_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _session_page(request, _session(_user(request), pk))


@staff_required
@require_POST
def session_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    session = _session(user, pk)
    form = AddPersonForm(request.POST)
    if form.is_valid():
        found = list(resident_search(user, form.cleaned_data["who"], limit=2))
        if len(found) != 1:
            form.add_error("who", _("Nobody in your area has this phone or ID number."))
        else:
            try:
                e = services.enrolment_create(
                    actor=user, session=session, resident=found[0], wait=form.cleaned_data["wait"]
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                if e.status == ES.ENROLLED:
                    messages.success(request, _("%(name)s is enrolled.") % {"name": found[0].name})
                else:
                    messages.success(
                        request,
                        _("Every seat is taken: %(name)s is number %(n)s on the waiting list.")
                        % {"name": found[0].name, "n": selectors.waiting_position(e)},
                    )
                return redirect("web:training:session", pk=session.pk)
    return _session_page(request, session, add_form=form, status=400)


@staff_required
@require_POST
def session_capacity(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    session = _session(user, pk)
    form = CapacityForm(request.POST)
    if form.is_valid():
        try:
            services.session_set_capacity(actor=user, session=session, capacity=form.cleaned_data["capacity"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The number of seats is changed."))
            return redirect("web:training:session", pk=session.pk)
    return _session_page(request, session, capacity_form=form, status=400)


@staff_required
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: confirmation with the reason field; POST: cancel and tell everyone."""
    user = _user(request)
    session = _session(user, pk)
    form = CancelSessionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.session_cancel(actor=user, session=session, reason=form.cleaned_data["reason"])
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The session is cancelled and everyone enrolled has been told."))
                return redirect("web:training:session", pk=session.pk)
        status = 400
    context = {"nav": "sessions", "session": session, "form": form}
    return _render_staff(request, "web/training/session_cancel.html", context, status=status)


def _posted_people(request: HttpRequest, prefix: str) -> dict[int, str]:
    """``{resident pk: value}`` from fields named ``<prefix><pk>``."""
    found: dict[int, str] = {}
    for key in request.POST:
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            found[int(key[len(prefix) :])] = (request.POST.get(key) or "").strip()
    return found


def _residents(pks: list[int]) -> dict[int, Resident]:
    return {r.pk: r for r in Resident.objects.filter(pk__in=pks)}


@staff_required
@require_POST
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    session = _session(user, pk)
    posted = {k: v for k, v in _posted_people(request, "present-").items() if v in ("1", "0")}
    people = _residents(list(posted))
    if len(people) != len(posted):
        raise Http404
    try:
        services.attendance_record(
            actor=user, session=session, attendance={people[k]: v == "1" for k, v in posted.items()}
        )
    except DomainError as exc:
        return _session_page(request, session, sheet_error=exc.text, status=400)
    messages.success(request, _("Attendance is saved."))
    return redirect("web:training:session", pk=session.pk)


@staff_required
@require_POST
def assessment(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    session = _session(user, pk)
    posted = {k: v for k, v in _posted_people(request, "score-").items() if v}
    people = _residents(list(posted))
    if len(people) != len(posted):
        raise Http404
    scores: dict[Resident, int] = {}
    for key, value in posted.items():
        if not value.isdigit():
            return _session_page(
                request, session, sheet_error=_("A score must be a whole number from 0 to 100."), status=400
            )
        scores[people[key]] = int(value)
    try:
        done = services.assessment_record(actor=user, session=session, scores=scores)
    except DomainError as exc:
        return _session_page(request, session, sheet_error=exc.text, status=400)
    passed = sum(1 for e in done if e.passed)
    messages.success(
        request,
        _("Results are saved: %(passed)s of %(all)s passed and received a certificate.")
        % {"passed": passed, "all": len(done)},
    )
    return redirect("web:training:session", pk=session.pk)


@staff_required
def expiring(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    certificates = list(selectors.certificates_expiring_visible_to(user)[:300])
    rows = [{"cert": c, "days": (c.valid_until - today).days} for c in certificates]
    context = {"nav": "expiring", "rows": rows, "warning_days": selectors.expiry_warning_days()}
    return _render_staff(request, "web/training/expiring.html", context)


def _target_scope(user: User) -> tuple[list[Region], bool]:
    """Towns whose targets ``user`` may set, and whether they may set the city's."""
    roles = active_roles(user)
    whole_city = bool(user.is_superuser) or any(r.role == StaffRole.Role.CITY_SUPERVISOR for r in roles)
    setters = {StaffRole.Role.CITY_SUPERVISOR, StaffRole.Role.TOWN_ADMIN}
    if not (user.is_superuser or any(r.role in setters for r in roles)):
        return [], False
    towns = [t for t in Region.objects.filter(level=Region.Level.TOWN).order_by("code") if can_manage_region(user, t)]
    return towns, whole_city


@staff_required
def targets(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    year = min(max(year, 2000), 2100)
    towns, whole_city = _target_scope(user)
    form = TargetForm(request.POST or None, towns=towns, whole_city=whole_city, initial={"year": year})
    status = 200
    if request.method == "POST":
        if not towns and not whole_city:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.target_set(
                    actor=user, year=data["year"], track=data["track"], region=form.chosen_region(), count=data["count"]
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The target is saved."))
                return redirect(f"{request.path}?year={data['year']}")
        status = 400
    city, by_town = selectors.training_progress(user, year)
    town_rows: dict[int, dict[str, Any]] = {}
    for p in by_town:
        assert p.region is not None
        town_rows.setdefault(p.region.pk, {"town": p.region, "tracks": []})["tracks"].append(p)
    context = {
        "nav": "targets",
        "year": year,
        "city": city,
        "towns": list(town_rows.values()),
        "form": form if (towns or whole_city) else None,
    }
    return _render_staff(request, "web/training/targets.html", context, status=status)


# --------------------------------------------------------------------------------------------- courses


def courses_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The course catalogue's pages: only those ``training.services.may_manage_courses`` lets in (403)."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not services.may_manage_courses(_user(request)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


#: A refusal about the minutes is shown next to the hours that were typed.
COURSE_FIELDS = {"teaching_minutes": "teaching_hours"}


def _course_error(form: CourseForm, exc: DomainError) -> None:
    exc.field = COURSE_FIELDS.get(exc.field or "", exc.field)
    add_domain_error(form, exc)


@courses_required
def courses(request: HttpRequest) -> HttpResponse:
    rows = [
        {"course": c, "hours": f"{c.teaching_minutes / 60:g}", "coming": c.coming}  # type: ignore[attr-defined]
        for c in selectors.course_catalogue()
    ]
    return _render_staff(request, "web/training/courses.html", {"nav": "courses", "rows": rows})


@courses_required
def course_new(request: HttpRequest) -> HttpResponse:
    """Step 1: the form. Step 2 (``step=review``): the course's rules are checked and the new course is shown
    to confirm. ``step=confirm``: ``course_create``; ``change``: back to the form with what was typed."""
    user = _user(request)
    if request.method != "POST":
        return _render_staff(request, "web/training/course_new.html", {"nav": "courses", "form": CourseForm()})
    form = CourseForm(request.POST)
    step = request.POST.get("step", "")
    if not form.is_valid() or step not in ("review", "confirm") or request.POST.get("change"):
        status = 200 if request.POST.get("change") and form.is_valid() else 400
        return _render_staff(request, "web/training/course_new.html", {"nav": "courses", "form": form}, status=status)
    data = form.cleaned_data
    facts = {
        "actor": user,
        "track": data["track"],
        "title": data["title"],
        "teaching_minutes": form.teaching_minutes(),
        "validity_months": data["validity_months"],
        "pass_score": data["pass_score"],
    }
    try:
        if step == "review":
            services.course_check(**facts)
        else:
            course = services.course_create(**facts, description=data["description"])
    except DomainError as exc:
        _course_error(form, exc)
        return _render_staff(request, "web/training/course_new.html", {"nav": "courses", "form": form}, status=400)
    if step == "review":
        context = {
            "nav": "courses",
            "form": form,
            "track_label": dict(form.fields["track"].choices)[data["track"]],  # type: ignore[attr-defined]
            "hours": f"{data['teaching_hours']:g}",
        }
        return _render_staff(request, "web/training/course_confirm.html", context)
    messages.success(
        request, _("The course “%(title)s” is added. Sessions of it can now be planned.") % {"title": course.title}
    )
    return redirect("web:training:courses")


@courses_required
def course_offer(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what stopping (or resuming) the course's offer means; POST ``active=0|1``: ``course_set_active``."""
    course = get_object_or_404(selectors.course_catalogue(), pk=pk)
    context: dict[str, Any] = {"nav": "courses", "course": course, "coming": course.coming, "error": None}  # type: ignore[attr-defined]
    if request.method == "POST":
        wanted = request.POST.get("active")
        if wanted not in ("0", "1"):
            context["error"] = _("Please use the buttons of this page.")
            return _render_staff(request, "web/training/course_offer.html", context, status=400)
        try:
            services.course_set_active(actor=_user(request), course=course, active=wanted == "1")
        except DomainError as exc:
            context["error"] = exc.text
            return _render_staff(request, "web/training/course_offer.html", context, status=400)
        if wanted == "1":
            text = _("“%(title)s” is offered again: sessions of it can be planned.")
        else:
            text = _("“%(title)s” is no longer offered: no new session can be planned and nobody new can join.")
        messages.success(request, text % {"title": course.title})
        return redirect("web:training:courses")
    return _render_staff(request, "web/training/course_offer.html", context)
