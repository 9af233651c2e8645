"""Pages: the public verification page, the volunteer's applications, the station's work list.

The volunteer and station pages are mounted in timebank.web.volunteer.urls / timebank.web.station.urls;
the public page at /verify/<code> in timebank.urls. Every change goes through the services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from timebank.care.card_pdf import mask_name
from timebank.common.errors import DomainError
from timebank.ledger.selectors import hours
from timebank.people.models import User
from timebank.web.access import area_required
from timebank.web.forms_support import add_domain_error

from . import services
from .models import VolunteerCertificate
from .pdf import render_certificate_pdf
from .selectors import certificate_by_code, certificates_for_staff

S = VolunteerCertificate.Status
HAS_PDF = (S.ISSUED, S.PUBLISHED, S.REVOKED)


# --------------------------------------------------------------------------------------------- public


@never_cache
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Anyone (no login) checks a certificate by its code: genuine, revoked, not yet published, or not
    verified (unknown, malformed or tampered). The name is masked; the ID number is never shown."""
    cert = certificate_by_code(code)
    if cert is None or cert.status not in (S.ISSUED, S.PUBLISHED, S.REVOKED):
        state = "unknown"
    elif cert.status == S.REVOKED:
        state = "revoked"
    elif cert.status == S.ISSUED:
        state = "unpublished"
    else:
        state = "genuine"
    context: dict[str, Any] = {"state": state, "code": code[:40]}
    if state in ("genuine", "revoked") and cert is not None:
        context |= {
            "cert": cert,
            "name": mask_name(cert.volunteer.name),
            "hours": hours(cert.minutes or 0),
        }
    response = render(request, "certificates/verify.html", context, status=404 if state == "unknown" else 200)
    response["X-Robots-Tag"] = "noindex"
    return response


# --------------------------------------------------------------------------------------------- volunteer


class ApplyForm(forms.Form):
    period_start = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=gettext_lazy("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    purpose = forms.CharField(label=gettext_lazy("What it is for (optional)"), max_length=200, required=False)


@area_required("volunteer")
def volunteer_certificates(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    me = user.resident
    assert me is not None
    if request.method == "POST":
        form = ApplyForm(request.POST)
        if form.is_valid():
            try:
                services.certificate_apply(actor=user, volunteer=me, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Your application was sent to your station."))
                return redirect("web:volunteer:service_certificates")
    else:
        today = timezone.localdate()
        form = ApplyForm(initial={"period_start": today.replace(month=1, day=1), "period_end": today})
    mine = VolunteerCertificate.objects.filter(volunteer=me).order_by("-applied_at")
    context = {"form": form, "certificates": mine, "has_pdf": HAS_PDF}
    status = 400 if form.is_bound and form.errors else 200  # a refused application is a 400, like every form
    return render(request, "certificates/volunteer.html", context, status=status)


@area_required("volunteer")
def volunteer_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    cert = get_object_or_404(VolunteerCertificate, pk=pk, volunteer_id=user.resident_id, status__in=HAS_PDF)
    return _pdf(request, cert)


def _pdf(request: HttpRequest, cert: VolunteerCertificate) -> HttpResponse:
    response = HttpResponse(render_certificate_pdf(cert, request=request), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{cert.serial}.pdf"'
    return response


# --------------------------------------------------------------------------------------------- station


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)


ACTIONS = {
    "accept": (services.certificate_accept, gettext_lazy("Application accepted.")),
    "issue": (services.certificate_issue, gettext_lazy("Certificate issued.")),
    "publish": (services.certificate_publish, gettext_lazy("Certificate published.")),
}


@area_required("station")
def station_certificates(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    qs = certificates_for_staff(user)
    open_ = qs.filter(status__in=[S.APPLIED, S.ACCEPTED, S.ISSUED]).order_by("applied_at")
    done = qs.filter(status__in=[S.PUBLISHED, S.REVOKED, S.REJECTED]).order_by("-applied_at")[:50]
    return render(
        request,
        "certificates/station.html",
        {"nav": "certificates", "open": open_, "done": done, "has_pdf": HAS_PDF},
    )


@require_POST
@area_required("station")
def station_certificate_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    cert = get_object_or_404(certificates_for_staff(user), pk=pk)
    try:
        if action in ACTIONS:
            service, done = ACTIONS[action]
            service(actor=user, certificate=cert)
        elif action in ("reject", "revoke"):
            form = ReasonForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            fn = services.certificate_reject if action == "reject" else services.certificate_revoke
            fn(actor=user, certificate=cert, reason=reason)
            done = gettext_lazy("Application refused.") if action == "reject" else gettext_lazy("Certificate revoked.")
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.text)
    else:
        messages.success(request, str(done))
    return redirect("web:station:certificates")


@area_required("station")
def station_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    cert = get_object_or_404(certificates_for_staff(user), pk=pk)
    if cert.status not in HAS_PDF:
        raise PermissionDenied
    return _pdf(request, cert)
