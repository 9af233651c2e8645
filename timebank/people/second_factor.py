"""Staff login policy: who must confirm a login with a TOTP code, whose session ends when idle, and the writes.

* Two-factor login (django-otp, TOTP as in any authenticator app): town admins, city supervisors and
  operators (superusers, and accounts that may use /admin/ without an area role). They see the most
  people's data. Social workers, partner admins and residents log in with a password only.
* Idle timeout: every staff account (any active staff role, or a staff/superuser flag) is logged out after
  ``STAFF_SESSION_IDLE_MINUTES`` without a request; residents keep their 14-day session.
* First password: an account a staff member made (``login_create``/``staff_create`` with an actor) must
  choose its own password before anything else; the demo's accounts and the system's are not made by
  an actor, and are the only ones whose password someone else chose.
* Enrolment: a staff member without a confirmed device scans a QR code (or types the secret) and confirms
  with a first code. A lost phone: an operator deletes the device (Django admin, "TOTP devices") and the
  person enrols again at the next login.

Both rules switch on and off by settings (``OTP_REQUIRED_FOR_STAFF``, ``STAFF_SESSION_IDLE_MINUTES``); the
system checks refuse to run a production site with two-factor login off.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from timebank.common.errors import InvalidInput

from .models import StaffRole, User

#: Roles whose login needs a second factor (besides operators).
SECOND_FACTOR_ROLES = (StaffRole.Role.TOWN_ADMIN, StaffRole.Role.CITY_SUPERVISOR)
DEVICE_NAME = "authenticator app"


class WrongCode(InvalidInput):
    code = "account.wrong_code"
    message = _("The code is wrong or has expired. Type the 6 digits your authenticator app shows now.")


class CodeTriesPaused(InvalidInput):
    code = "account.code_tries_paused"
    status = 429
    message = _("Too many wrong codes. Wait {seconds} seconds, then try again.")


def _roles(user: User) -> set[str]:
    return set(StaffRole.objects.filter(user=user, active=True).values_list("role", flat=True))


def is_operator(user: User) -> bool:
    """Superusers, and accounts allowed into /admin/ that hold no area role."""
    if user.is_superuser:
        return True
    return bool(user.is_staff) and not _roles(user)


def is_staff_account(user: User) -> bool:
    """Anyone whose session ends when idle: any active staff role, or a staff/superuser flag."""
    return bool(user.is_staff or user.is_superuser) or bool(_roles(user))


def second_factor_role(user: User) -> bool:
    """Whether the account's roles call for a second factor (operator, town admin, city supervisor)."""
    if user.is_superuser:
        return True
    roles = _roles(user)
    if user.is_staff and not roles:
        return True
    return any(role in roles for role in SECOND_FACTOR_ROLES)


def needs_second_factor(user: User) -> bool:
    """Whether this account must confirm its logins with a TOTP code (when OTP_REQUIRED_FOR_STAFF is on)."""
    return bool(getattr(settings, "OTP_REQUIRED_FOR_STAFF", True)) and second_factor_role(user)


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The unconfirmed device whose secret the enrolment page shows (the same one until it is confirmed)."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def _verify(device: TOTPDevice, token: str) -> None:
    allowed, data = device.verify_is_allowed()
    if not allowed:
        failures = int((data or {}).get("failure_count", 1))
        factor = int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))
        raise CodeTriesPaused(field="code", seconds=factor * 2 ** (failures - 1))
    if not (token.isdigit() and len(token) == device.digits) or not device.verify_token(token):
        raise WrongCode(field="code")


def totp_enrolment_confirm(*, user: User, device: TOTPDevice, token: str) -> TOTPDevice:
    """Confirm the device with its first code; other unconfirmed devices of the user are removed."""
    if device.user_id != user.pk or device.confirmed:
        raise WrongCode(field="code")
    _verify(device, token.strip())
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
    return device


def totp_login_check(*, user: User, token: str) -> TOTPDevice:
    """The user's confirmed device if ``token`` is its current code (each code works once); else an error."""
    device = confirmed_device(user)
    if device is None:
        raise WrongCode(field="code")
    _verify(device, token.strip())
    return device


def password_change(*, user: User, new_password: str) -> None:
    """The owner sets a new password (already checked by the validators): the one a staff member chose
    when making the account no longer has to be replaced."""
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])


def totp_device_set(*, user: User, key_hex: str) -> TOTPDevice:
    """Give ``user`` a confirmed device with a known key. For the demo city only (seed_demo)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=key_hex, confirmed=True)
