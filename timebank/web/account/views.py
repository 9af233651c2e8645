"""My account: API tokens, my password, and the second login step for staff.

API tokens: partner systems and scripts call /api/v1 with a personal token of a signed-in person. The token
is shown once, right after it is made (it is stored only as a hash); revoking asks first.

Password: everyone can change theirs (the present password first; Django's validators).

Two-factor login (town admins, city supervisors, operators; timebank.people.second_factor): after the
password, the code of an authenticator app; without a confirmed device yet, the set-up page (QR code and
secret, then a first code). timebank.web.account.middleware sends such a session here until it is confirmed.
"""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login

from timebank.api import services
from timebank.api.models import ApiToken
from timebank.api.selectors import tokens_of
from timebank.common.errors import DomainError
from timebank.people import second_factor
from timebank.people.models import User
from timebank.people.second_factor import confirmed_device
from timebank.web.forms_support import add_domain_error

from .forms import SCOPE_CHOICES, CodeForm, PasswordChangeForm, TokenForm


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _page(request: HttpRequest, form: TokenForm, *, status: int = 200, **extra: object) -> HttpResponse:
    labels = dict(SCOPE_CHOICES)
    rows = [(t, [labels.get(s, s) for s in t.scopes]) for t in tokens_of(_user(request))]
    context = {"form": form, "rows": rows, "now": timezone.now(), **extra}
    response = render(request, "web/account/tokens.html", context, status=status)
    add_never_cache_headers(response)  # a new token's secret must not stay in a cache
    return response


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, TokenForm(), done=request.GET.get("done", ""))
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            issued = services.token_create(
                user=_user(request),
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_in_days=form.cleaned_data["expires"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return _page(request, TokenForm(), issued=issued)
    return _page(request, form, status=400)


@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, user=_user(request), revoked_at__isnull=True).first()
    if token is None:
        raise Http404(_("There is no such token among yours."))
    if request.method == "POST" and request.POST.get("step") == "confirm":
        services.token_revoke(actor=_user(request), token=token)
        return redirect(reverse("web:account:tokens") + "?done=revoked")
    return render(request, "web/account/token_revoke.html", {"token": token})


# --- password and two-factor login -----------------------------------------------------------------------


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return reverse("web:home")


def _no_store(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)  # a secret or a code must not stay in a cache
    return response


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Change my password: the present one, then the new one twice (Django's validators). Stays logged in."""
    form = PasswordChangeForm(_user(request), request.POST or None)
    if request.method == "POST" and form.is_valid():
        second_factor.password_change(user=form.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, form.user)  # this session stays; other sessions of the account end
        return redirect(reverse("web:account:password") + "?done=1")
    context = {"form": form, "done": request.GET.get("done") == "1", "must": _user(request).must_change_password}
    return _no_store(render(request, "web/account/password.html", context, status=400 if form.errors else 200))


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """The second login step for staff: the code their authenticator app shows now."""
    user = _user(request)
    if confirmed_device(user) is None:
        return redirect(reverse("web:account:two_factor_setup") + "?" + urlencode({"next": _next(request)}))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor.totp_login_check(user=user, token=form.cleaned_data["code"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            otp_login(request, device)
            return redirect(_next(request))
    context = {"form": form, "next": _next(request)}
    return _no_store(render(request, "web/account/two_factor.html", context, status=400 if form.errors else 200))


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: a QR code and the secret, then a first code to show that it works."""
    user = _user(request)
    if confirmed_device(user) is not None:
        return redirect(reverse("web:account:two_factor") + "?" + urlencode({"next": _next(request)}))
    device = second_factor.totp_enrolment_start(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.totp_enrolment_confirm(user=user, device=device, token=form.cleaned_data["code"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            otp_login(request, device)
            return redirect(_next(request))
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": _next(request),
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2, omitsize=True),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "issuer": settings.OTP_TOTP_ISSUER,
    }
    return _no_store(render(request, "web/account/two_factor_setup.html", context, status=400 if form.errors else 200))
