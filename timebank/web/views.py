from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from timebank.ledger.selectors import hours, resident_balance, statement_recent
from timebank.ledger.services import account_for
from timebank.people.models import User
from timebank.people.privacy_selectors import may_answer_corrections
from timebank.people.selectors import active_roles, eligibility
from timebank.people.services import user_set_elder_mode

from .access import areas_for
from .forms import PhoneLoginForm


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = PhoneLoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["why"] = self.request.GET.get("why", "")
        return context

    def form_invalid(self, form: PhoneLoginForm) -> HttpResponse:  # type: ignore[override]
        """A refused login is a 400, like every refused form (the page shows why)."""
        response = super().form_invalid(form)
        response.status_code = 400
        return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    resident = user.resident
    balance = resident_balance(resident) if resident else None
    context = {
        "areas": areas_for(user),
        "roles": active_roles(user),
        "resident": resident,
        "eligibility": eligibility(resident) if resident else None,
        "balance": balance,
        "balance_hours": hours(balance.posted) if balance else None,
        "statement": statement_recent(account_for(resident), limit=10) if resident else None,
        "may_answer_corrections": may_answer_corrections(user),
    }
    return render(request, "web/home.html", context)


@require_POST
def elder_mode(request: HttpRequest) -> HttpResponse:
    """Switch 长辈版 on or off: remembered on the device (cookie) and, when logged in, on the account."""
    on = request.POST.get("on") == "1"
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = "/"
    response = redirect(target)
    response.set_cookie("elder_mode", "1" if on else "0", max_age=3600 * 24 * 365 * 5, samesite="Lax")
    if request.user.is_authenticated:
        user_set_elder_mode(user=request.user, on=on)
    return response
