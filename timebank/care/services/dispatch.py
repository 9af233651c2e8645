"""Volunteers for a need: the hard rules, applications, dispatch, declining and no-shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.care.errors import (
    DoubleBooked,
    IllegalTransition,
    NotQualified,
    NotYourVisit,
    ReasonRequired,
)
from timebank.care.models import (
    Application,
    CareEvent,
    Need,
    Visit,
)
from timebank.common.errors import NotAllowed, OutOfScope
from timebank.people.models import Resident
from timebank.people.selectors import can_manage_resident, eligibility
from timebank.training.models import Track
from timebank.training.selectors import holds_valid_certificate

if TYPE_CHECKING:
    from timebank.people.models import User
from ._common import NS, VS, _move_need, _move_visit


def volunteer_check(volunteer: Resident, need: Need) -> None:
    """Raise :class:`NotQualified` unless ``volunteer`` may serve ``need`` (the hard rules)."""
    day = timezone.localtime(need.window_start).date()
    reason = None
    if not volunteer.is_volunteer:
        reason = _("not registered as a volunteer")
    elif volunteer.pk == need.elder_id:
        reason = _("nobody can serve themselves")
    else:
        elig = eligibility(volunteer, on=day)
        track = need.item_version.required_track
        if not elig.may_serve:
            reason = "; ".join(str(r) for r in elig.serve_reasons)
        elif track and not holds_valid_certificate(volunteer, track, on=day):
            reason = _("needs a valid %(track)s certificate") % {"track": Track(track).label}
        elif need.pref_gender and volunteer.sex != need.pref_gender:
            reason = _("the elder asked for a volunteer of the other sex")
        elif need.pref_language and need.pref_language not in (volunteer.languages or []):
            reason = _("does not speak the language the elder asked for")
    if reason:
        raise NotQualified(name=volunteer.name, reason=reason)


def application_apply(*, actor: User, need: Need) -> Application:
    """A volunteer offers to serve an open need."""
    volunteer = actor.resident
    if volunteer is None:
        raise NotAllowed()
    if need.status != NS.OPEN:
        raise IllegalTransition(thing=_("need"), status=Need.Status(need.status).label)
    volunteer_check(volunteer, need)
    with transaction.atomic():
        application, _created = Application.objects.get_or_create(need=need, volunteer=volunteer)
        if application.status == Application.Status.WITHDRAWN:
            application.status = Application.Status.APPLIED
            application.save(update_fields=["status"])
    return application


def application_withdraw(*, actor: User, application: Application) -> Application:
    if actor.resident_id != application.volunteer_id:
        raise NotYourVisit()
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status != Application.Status.APPLIED:  # accepted: decline the visit instead
            raise IllegalTransition(thing=_("application"), status=Application.Status(application.status).label)
        application.status = Application.Status.WITHDRAWN
        application.save(update_fields=["status"])
    return application


def visit_assign(*, actor: User, need: Need, volunteer: Resident) -> Visit:
    """A social worker dispatches ``volunteer`` to ``need`` (or accepts their application).

    The volunteer's row is locked, so two dispatchers cannot book one volunteer twice at the same time.
    """
    if not can_manage_resident(actor, need.elder):
        raise OutOfScope()
    volunteer_check(volunteer, need)
    with transaction.atomic():
        Resident.objects.select_for_update().get(pk=volunteer.pk)
        need = Need.objects.select_for_update().get(pk=need.pk)
        clash = Visit.objects.filter(
            volunteer=volunteer,
            status__in=[VS.ASSIGNED, VS.CHECKED_IN],
            need__window_start__lt=need.window_end,
            need__window_end__gt=need.window_start,
        ).exists()
        if clash:
            raise DoubleBooked(name=volunteer.name)
        _move_need(need, NS.ASSIGNED, actor=actor, note=f"volunteer {volunteer.pk}")
        need.save(update_fields=["status"])
        visit = Visit.objects.create(need=need, volunteer=volunteer, assigned_by=actor)
        CareEvent.objects.create(need=need, visit=visit, to_status=VS.ASSIGNED, actor=actor)
        need.applications.filter(volunteer=volunteer).update(status=Application.Status.ACCEPTED)
        need.applications.exclude(volunteer=volunteer).filter(status=Application.Status.APPLIED).update(
            status=Application.Status.NOT_CHOSEN
        )
    return visit


def visit_decline(*, actor: User, visit: Visit, reason: str) -> Visit:
    """The volunteer cannot come after all: the visit is cancelled and the need is open again."""
    if actor.resident_id != visit.volunteer_id:
        raise NotYourVisit()
    if not reason.strip():
        raise ReasonRequired(field="reason")
    return _reopen(visit, VS.CANCELLED, actor=actor, reason=reason)


def visit_no_show(*, actor: User, visit: Visit, note: str = "") -> Visit:
    """The station records that the volunteer did not come; the need is open again."""
    if not can_manage_resident(actor, visit.need.elder):
        raise OutOfScope()
    return _reopen(visit, VS.NO_SHOW, actor=actor, reason=note or "no show")


def _reopen(visit: Visit, to: str, *, actor: User, reason: str) -> Visit:
    with transaction.atomic():
        visit = Visit.objects.select_for_update().select_related("need").get(pk=visit.pk)
        _move_visit(visit, to, actor=actor, note=reason)
        visit.save(update_fields=["status"])
        need = Need.objects.select_for_update().get(pk=visit.need_id)
        if need.status == NS.ASSIGNED:
            _move_need(need, NS.OPEN, actor=actor, note=reason)
            need.save(update_fields=["status"])
    return visit
