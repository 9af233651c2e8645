"""Writes about people. Every function checks its input and the actor's scope before it writes, and
writes in one transaction, so bad input changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import phonenumbers
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from timebank.common.errors import OutOfScope
from timebank.common.names import clean_name
from timebank.common.text import join_lazy
from timebank.places.errors import BadCoordinates
from timebank.places.geo import valid_coordinates
from timebank.places.models import Region, Site

from . import idnumber
from .errors import (
    ID_REASONS,
    BirthDateInFuture,
    BirthDateMismatch,
    DuplicateIdNumber,
    HomeNotCommunity,
    InvalidFlag,
    InvalidIdNumber,
    InvalidLanguage,
    InvalidPhone,
    NotEligibleForRole,
    PhoneInUse,
    ProxyNeedsConsent,
    RelationExists,
    SelfRelation,
    StaffRoleInvalid,
    WeakPassword,
)
from .models import PersonalDataView, Relationship, Resident, StaffRole, User
from .pinyin import pinyin_keys
from .selectors import can_manage_region, can_manage_resident, eligibility
from .validators import person_name

LANGUAGES = {"yue": _("Cantonese"), "cmn": _("Mandarin"), "other": _("Other")}
ROLE_LABELS = {"elder": _("an elder"), "volunteer": _("a volunteer"), "proxy": _("a proxy")}
_INVERSE = {
    "spouse": "spouse",
    "parent": "child",
    "child": "parent",
    "grandparent": "grandchild",
    "grandchild": "grandparent",
    "sibling": "sibling",
    "friend": "friend",
}


def normalise_phone(raw: str) -> str:
    """Return the phone number in E.164 (+86…) or raise :class:`InvalidPhone`."""
    text = (raw or "").strip()
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidPhone(field="phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def login_name_for_phone(raw: str) -> str:
    """The login name for a phone: the national number for Chinese numbers (what people type)."""
    e164 = normalise_phone(raw)
    return e164[3:] if e164.startswith("+86") else e164


def _check_languages(languages: Iterable[str]) -> list[str]:
    result = []
    for code in languages:
        if code not in LANGUAGES:
            raise InvalidLanguage(field="languages", value=code)
        if code not in result:
            result.append(code)
    return result


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise WeakPassword(field="password", reason=" ".join(exc.messages)) from None


def _check_roles(resident: Resident, roles: Iterable[str], *, on: dt.date | None) -> None:
    elig = eligibility(resident, on=on)
    for role in roles:
        reason: str | Promise | None = None
        if role == "volunteer" and not elig.may_serve:
            reason = join_lazy("; ", elig.serve_reasons)
        elif role == "elder" and not elig.may_be_elder:
            reason = _("too young to be registered as an elder")
        elif role == "proxy" and not elig.may_be_proxy:
            reason = _("too young to act for someone else")
        elif role not in ROLE_LABELS:
            raise InvalidFlag(field="roles", value=role, field_name=_("role"))
        if reason:
            raise NotEligibleForRole(field="roles", name=resident.name, role=ROLE_LABELS[role], reason=reason)


def resident_register(
    *,
    actor: User | None,
    name: str,
    id_number: str,
    home_region: Region,
    phone: str = "",
    birth_date: dt.date | None = None,
    languages: Iterable[str] = ("cmn",),
    address: str = "",
    lat: float | None = None,
    lon: float | None = None,
    roles: Iterable[str] = (),
    lives_alone: bool = False,
    disability: str = "none",
    low_income: bool = False,
    lost_only_child: bool = False,
    childless_widowed: bool = False,
    today: dt.date | None = None,
) -> Resident:
    """Register a resident. ``actor`` is the staff member (None for the system, e.g. the demo loader).

    Birth date and sex come from the ID number; a birth date typed in must agree with it.
    """
    if actor is not None and not can_manage_region(actor, home_region):
        raise OutOfScope()
    name = person_name(name)
    day = today or timezone.localdate()
    try:
        parsed = idnumber.parse(id_number, today=day)
    except idnumber.IdNumberError as exc:
        raise InvalidIdNumber(field="id_number", reason=ID_REASONS[exc.reason]) from None
    if birth_date is not None:
        if birth_date > day:
            raise BirthDateInFuture(field="birth_date")
        if birth_date != parsed.birth_date:
            raise BirthDateMismatch(field="birth_date", expected=parsed.birth_date.isoformat())
    if home_region.level != Region.Level.COMMUNITY:
        raise HomeNotCommunity(field="home_region")
    phone_e164 = normalise_phone(phone) if phone else ""
    if disability not in Resident.Disability.values:
        raise InvalidFlag(field="disability", value=disability, field_name=_("disability"))
    if (lat is not None or lon is not None) and not valid_coordinates(lat, lon):
        raise BadCoordinates(field="lat")
    if lat is None or lon is None:
        lat, lon = home_region.lat, home_region.lon
    id_hash = idnumber.keyed_hash(parsed.number)
    if Resident.objects.filter(id_hash=id_hash).exists():
        raise DuplicateIdNumber(field="id_number")
    full, initials = pinyin_keys(name)
    role_set = set(roles)
    resident = Resident(
        name=name,
        name_pinyin=full,
        name_initials=initials,
        id_number=parsed.number,
        id_hash=id_hash,
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        phone=phone_e164,
        languages=_check_languages(languages),
        home_region=home_region,
        address=address,
        lat=lat,
        lon=lon,
        is_elder="elder" in role_set,
        is_volunteer="volunteer" in role_set,
        is_proxy="proxy" in role_set,
        lives_alone=lives_alone,
        disability=disability,
        low_income=low_income,
        lost_only_child=lost_only_child,
        childless_widowed=childless_widowed,
        registered_by=actor,
    )
    _check_roles(resident, role_set, on=day)
    try:
        with transaction.atomic():
            resident.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent registration of the same number
        raise DuplicateIdNumber(field="id_number") from exc
    return resident


def resident_grant_role(*, actor: User | None, resident: Resident, role: str, on: dt.date | None = None) -> Resident:
    """Give a resident the elder, volunteer or proxy role, if they are eligible for it."""
    if actor is not None and not can_manage_resident(actor, resident):
        raise OutOfScope()
    _check_roles(resident, [role], on=on)
    with transaction.atomic():
        setattr(resident, f"is_{role}", True)
        resident.save(update_fields=[f"is_{role}"])
    return resident


def resident_set_flags(
    *,
    actor: User | None,
    resident: Resident,
    lives_alone: bool | None = None,
    disability: str | None = None,
    low_income: bool | None = None,
    lost_only_child: bool | None = None,
    childless_widowed: bool | None = None,
) -> Resident:
    """Record the hardship flags that decide free service (重点对象)."""
    if actor is not None and not can_manage_resident(actor, resident):
        raise OutOfScope()
    if disability is not None and disability not in Resident.Disability.values:
        raise InvalidFlag(field="disability", value=disability, field_name=_("disability"))
    changes = {
        "lives_alone": lives_alone,
        "disability": disability,
        "low_income": low_income,
        "lost_only_child": lost_only_child,
        "childless_widowed": childless_widowed,
    }
    fields = [k for k, v in changes.items() if v is not None]
    with transaction.atomic():
        for key in fields:
            setattr(resident, key, changes[key])
        resident.save(update_fields=fields)
    return resident


def relationship_create(
    *,
    actor: User | None,
    resident: Resident,
    relative: Resident,
    kind: str,
    is_proxy: bool = False,
    consent_note: str = "",
) -> Relationship:
    """Record that ``relative`` is the ``kind`` of ``resident`` (and the inverse), optionally as proxy.

    A proxy acts for ``resident``; the consent (how and when it was given) must be recorded.
    """
    if resident.pk == relative.pk:
        raise SelfRelation(field="relative")
    if kind not in _INVERSE:
        raise InvalidFlag(field="kind", value=kind, field_name=_("relation"))
    if actor is not None and not (can_manage_resident(actor, resident) and can_manage_resident(actor, relative)):
        raise OutOfScope()
    if is_proxy and not consent_note.strip():
        raise ProxyNeedsConsent(field="consent_note")
    if is_proxy and not eligibility(relative).may_be_proxy:
        raise NotEligibleForRole(
            field="relative",
            name=relative.name,
            role=ROLE_LABELS["proxy"],
            reason=_("too young to act for someone else"),
        )
    if Relationship.objects.filter(resident=resident, relative=relative).exists():
        raise RelationExists(field="relative")
    now = timezone.now()
    try:
        with transaction.atomic():
            row = Relationship.objects.create(
                resident=resident,
                relative=relative,
                kind=kind,
                is_proxy=is_proxy,
                consent_recorded_at=now if is_proxy else None,
                consent_note=consent_note.strip(),
                recorded_by=actor,
            )
            Relationship.objects.get_or_create(
                resident=relative, relative=resident, defaults={"kind": _INVERSE[kind], "recorded_by": actor}
            )
            if is_proxy and not relative.is_proxy:
                relative.is_proxy = True
                relative.save(update_fields=["is_proxy"])
    except IntegrityError as exc:
        raise RelationExists(field="relative") from exc
    return row


def login_create(*, actor: User | None, resident: Resident, password: str) -> User:
    """Give a resident (volunteer, proxy or elder) a login: their phone number and a password."""
    if actor is not None and not can_manage_resident(actor, resident):
        raise OutOfScope()
    if not resident.phone:
        raise InvalidPhone(field="phone")
    username = login_name_for_phone(resident.phone)
    if User.objects.filter(username=username).exists():
        raise PhoneInUse(field="phone")
    # A staff member who makes the login knows its first password: the owner must choose their own.
    user = User(username=username, first_name=resident.name, resident=resident, must_change_password=actor is not None)
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save()
    return user


def staff_create(
    *,
    actor: User | None,
    phone: str,
    name: str,
    password: str,
    role: str,
    region: Region | None = None,
    site: Site | None = None,
    organisation: str = "",
) -> User:
    """Create a staff login with one role. A social worker's area is their site's region."""
    name = person_name(name)
    if role not in StaffRole.Role.values:
        raise InvalidFlag(field="role", value=role, field_name=_("role"))
    if role == StaffRole.Role.SOCIAL_WORKER:
        if site is None:
            raise StaffRoleInvalid(field="site", reason=_("a social worker belongs to a site"))
        region = site.region
    if region is None:
        raise StaffRoleInvalid(field="region", reason=_("choose an area"))
    if role == StaffRole.Role.TOWN_ADMIN and region.level != Region.Level.TOWN:
        raise StaffRoleInvalid(field="region", reason=_("a town administrator looks after one town or street"))
    if role == StaffRole.Role.CITY_SUPERVISOR and region.level != Region.Level.CITY:
        raise StaffRoleInvalid(field="region", reason=_("a city supervisor looks after the whole city"))
    organisation = clean_name(organisation, field="organisation")
    if role == StaffRole.Role.PARTNER_ADMIN and not organisation:
        raise StaffRoleInvalid(field="organisation", reason=_("name the partner organisation"))
    if actor is not None and not can_manage_region(actor, region):
        raise OutOfScope()
    username = login_name_for_phone(phone)
    if User.objects.filter(username=username).exists():
        raise PhoneInUse(field="phone")
    user = User(username=username, first_name=name, is_staff=True, must_change_password=actor is not None)
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save()
        StaffRole.objects.create(user=user, role=role, region=region, site=site, organisation=organisation.strip())
    return user


def personal_data_view_record(*, viewer: User, resident: Resident, purpose: str = "") -> str:
    """Audit that ``viewer`` saw the full ID number, and return it. Only staff who manage the resident."""
    if not can_manage_resident(viewer, resident):
        raise OutOfScope()
    with transaction.atomic():
        PersonalDataView.objects.create(viewer=viewer, resident=resident, purpose=purpose[:120])
    return str(resident.id_number)


def user_set_elder_mode(*, user: User, on: bool) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(elder_mode=on)
    user.elder_mode = on
