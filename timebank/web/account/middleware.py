"""Staff sessions: end them when idle, and hold them at the second-factor step until a TOTP code is given.

Runs after django-otp's OTPMiddleware (which tells whether the session's login was confirmed with a code).
The rules are in :mod:`timebank.people.second_factor`; the roles behind them are read once per login and
kept in the session (a role given or taken away applies from the next login).

* Idle: a staff session with no request for ``STAFF_SESSION_IDLE_MINUTES`` is logged out; the next page
  is the login page, saying why. The time of the last request is refreshed at most once a minute (so a
  session may end up to a minute early); the cookie and the session row expire an hour after the idle
  limit (until then the login page can say why the session ended; after it the session is simply gone).
* First password: an account whose password a staff member chose reaches only the password page (after
  the second factor, when it needs one) until its owner has chosen a new one.
* Second factor: until the login is confirmed, a town admin, city supervisor or operator reaches only the
  code page (or the enrolment page when they have no device yet), logout and the display switches; an API
  call on such a session answers 403 with a code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from timebank.people.models import User
from timebank.people.second_factor import confirmed_device, is_staff_account, second_factor_role

POLICY_KEY = "tb_login_policy"
LAST_SEEN_KEY = "tb_last_seen"
REFRESH_SECONDS = 60
KEEP_AFTER_IDLE_SECONDS = 3600


def _open_paths() -> tuple[str, ...]:
    return (
        reverse("web:login"),
        reverse("web:logout"),
        reverse("web:account:two_factor"),
        reverse("web:account:two_factor_setup"),
        reverse("web:elder_mode"),
        reverse("set_language"),
        settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL,
    )


def _policy(request: HttpRequest, user: User) -> dict[str, object]:
    policy = request.session.get(POLICY_KEY)
    if not isinstance(policy, dict) or policy.get("uid") != user.pk:
        policy = {"uid": user.pk, "staff": is_staff_account(user), "second_factor": second_factor_role(user)}
        request.session[POLICY_KEY] = policy
    return policy


def _is_verified(user: User) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            policy = _policy(request, user)
            if policy["staff"]:
                ended = self._idle(request)
                if ended is not None:
                    return ended
            if (
                policy["second_factor"]
                and getattr(settings, "OTP_REQUIRED_FOR_STAFF", True)
                and not _is_verified(user)
                and not request.path_info.startswith(_open_paths())
            ):
                return self._second_factor_step(request, user)
            if user.must_change_password and not request.path_info.startswith(
                (*_open_paths(), reverse("web:account:password"))
            ):
                return self._password_step(request)
        return self.get_response(request)

    @staticmethod
    def _idle(request: HttpRequest) -> HttpResponse | None:
        minutes = int(getattr(settings, "STAFF_SESSION_IDLE_MINUTES", 0) or 0)
        if minutes <= 0:
            return None
        now = int(time.time())
        last = request.session.get(LAST_SEEN_KEY)
        if isinstance(last, int) and now - last > minutes * 60:
            logout(request)
            query = {"why": "idle"}
            if request.method == "GET":
                query["next"] = request.get_full_path()
            return HttpResponseRedirect(f"{reverse('web:login')}?{urlencode(query)}")
        if not isinstance(last, int) or now - last >= REFRESH_SECONDS:
            request.session[LAST_SEEN_KEY] = now
            request.session.set_expiry(minutes * 60 + KEEP_AFTER_IDLE_SECONDS)
        return None

    @staticmethod
    def _password_step(request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {
                    "code": "account.password_change_required",
                    "message": _("Choose your own password first: the present one was chosen by someone else."),
                    "field": None,
                },
                status=403,
            )
        return HttpResponseRedirect(reverse("web:account:password"))

    @staticmethod
    def _second_factor_step(request: HttpRequest, user: User) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {
                    "code": "account.second_factor_required",
                    "message": _("Confirm your login with the code from your authenticator app first."),
                    "field": None,
                },
                status=403,
            )
        name = "web:account:two_factor" if confirmed_device(user) else "web:account:two_factor_setup"
        target = reverse(name)
        if request.method == "GET" and request.get_full_path() != reverse("web:home"):
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
