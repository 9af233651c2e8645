"""My API tokens: partner systems and scripts call /api/v1 with a personal token of a signed-in person.

The token is shown once, right after it is made (it is stored only as a hash); revoking asks first.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from timebank.api import services
from timebank.api.models import ApiToken
from timebank.api.selectors import tokens_of
from timebank.common.errors import DomainError
from timebank.people.models import User
from timebank.web.forms_support import add_domain_error

from .forms import SCOPE_CHOICES, TokenForm


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
