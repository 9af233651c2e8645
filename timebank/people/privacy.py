"""Writes for a person's rights over their data (PIPL, docs/privacy.md): corrections, leaving, pseudonymising.

The parts that touch higher layers (the ledger's hours, notifications, care needs) live in
:mod:`timebank.privacy.services`, which calls these inside its own transaction. Every function here checks
its input and the actor before it writes, and writes in one transaction.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from timebank.common.errors import OutOfScope

from .errors import (
    BadDepartureReason,
    CorrectionDecided,
    CorrectionNotYours,
    CorrectionReasonRequired,
    CorrectionTooMany,
    CorrectionValueRequired,
    DecisionNoteRequired,
    InvalidFlag,
    InvalidName,
    PersonLeft,
    PhoneInUse,
)
from .models import CorrectionRequest, Departure, Relationship, Resident, User
from .pinyin import pinyin_keys
from .selectors import can_manage_resident
from .services import LANGUAGES, _check_languages, login_name_for_phone, normalise_phone

PSEUDONYM_HASH_PREFIX = "pseudonymised:"
PSEUDONYM_ID_NUMBER = "-"  # the encrypted column may not be empty; this is no ID number
MAX_OPEN_CORRECTIONS = 5
_BAD_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs"}


def pseudonym(resident_pk: int) -> str:
    """The name kept for a person who left: stored data, so in the city's language, not translated."""
    return f"已注销居民{resident_pk}"


def is_pseudonymised(resident: Resident) -> bool:
    return resident.id_hash.startswith(PSEUDONYM_HASH_PREFIX)


def _plain_text(value: str, *, limit: int) -> str | None:
    """``value`` stripped, or None when it is empty, too long or holds control/format characters."""
    text = (value or "").strip()
    if not text or len(text) > limit:
        return None
    if any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in text):
        return None
    return text


def _parse_languages(raw: str) -> list[str]:
    """Codes (yue cmn other) or their names in Chinese or English (粤语 普通话; Cantonese Mandarin)."""
    names: dict[str, str] = {}
    for code, label in LANGUAGES.items():
        names[code] = code
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                names[str(label).lower()] = code
    tokens = [c for c in raw.replace(",", " ").replace("，", " ").replace("、", " ").split() if c]
    codes = [names.get(t.lower(), t) for t in tokens]
    if not codes:
        raise CorrectionValueRequired(field="new_value")
    return _check_languages(codes)


def _may_ask_for(actor: User, resident: Resident) -> bool:
    """The person themselves (their own login) may ask; nobody else, not even staff (they edit directly)."""
    return bool(actor.is_authenticated and actor.is_active and actor.resident_id == resident.pk)


def _check_new_value(field: str, new_value: str) -> str:
    if field == CorrectionRequest.Field.OTHER:
        text = (new_value or "").strip()
        if len(text) > 200 or (text and _plain_text(text, limit=200) is None):
            raise CorrectionValueRequired(field="new_value")
        return text
    checked = _plain_text(new_value, limit=200)
    if checked is None:
        raise CorrectionValueRequired(field="new_value")
    text = checked
    if field == CorrectionRequest.Field.NAME and len(text) > 64:
        raise InvalidName(field="new_value")
    if field == CorrectionRequest.Field.PHONE:
        return normalise_phone(text)
    if field == CorrectionRequest.Field.LANGUAGES:
        return " ".join(_parse_languages(text))
    return text


def correction_request_create(
    *, actor: User, resident: Resident, field: str, new_value: str, reason: str
) -> CorrectionRequest:
    """The person asks the station to correct one thing held about them, with the reason."""
    if not _may_ask_for(actor, resident):
        raise CorrectionNotYours()
    if not resident.active or is_pseudonymised(resident):
        raise PersonLeft()
    if field not in CorrectionRequest.Field.values:
        raise InvalidFlag(field="field", value=field, field_name=_("what to correct"))
    reason_text = _plain_text(reason, limit=500)
    if reason_text is None:
        raise CorrectionReasonRequired(field="reason")
    value = _check_new_value(field, new_value)
    with transaction.atomic():
        Resident.objects.select_for_update().filter(pk=resident.pk).first()  # one request at a time per person
        open_count = CorrectionRequest.objects.filter(resident=resident, status=CorrectionRequest.Status.OPEN).count()
        if open_count >= MAX_OPEN_CORRECTIONS:
            raise CorrectionTooMany(count=open_count)
        return CorrectionRequest.objects.create(
            resident=resident, field=field, new_value=value, reason=reason_text, asked_by=actor
        )


def resident_details_update(
    *,
    actor: User | None,
    resident: Resident,
    name: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    languages: list[str] | None = None,
) -> Resident:
    """Change a resident's name, phone, address or languages (staff of their area, or the system).

    The login name follows the phone (it is the phone number); a phone already used by another login is
    refused. The pinyin search keys follow the name.
    """
    if actor is not None and not can_manage_resident(actor, resident):
        raise OutOfScope()
    if is_pseudonymised(resident):
        raise PersonLeft()
    fields: list[str] = []
    login_name: str | None = None
    if name is not None:
        clean = _plain_text(name, limit=64)
        if clean is None:
            raise InvalidName(field="name")
        resident.name = clean
        resident.name_pinyin, resident.name_initials = pinyin_keys(clean)
        fields += ["name", "name_pinyin", "name_initials"]
    if phone is not None:
        resident.phone = normalise_phone(phone) if phone.strip() else ""
        fields.append("phone")
        if resident.phone:
            login_name = login_name_for_phone(resident.phone)
    if address is not None:
        text = address.strip()
        if text and _plain_text(text, limit=200) is None:
            raise CorrectionValueRequired(field="address")
        resident.address = text
        fields.append("address")
    if languages is not None:
        resident.languages = _check_languages(languages)
        fields.append("languages")
    if not fields:
        return resident
    with transaction.atomic():
        user = User.objects.select_for_update().filter(resident=resident).first()
        if user is not None:
            user_fields = []
            if login_name is not None and user.username != login_name:
                if User.objects.filter(username=login_name).exclude(pk=user.pk).exists():
                    raise PhoneInUse(field="phone")
                user.username = login_name
                user_fields.append("username")
            if name is not None:
                user.first_name = resident.name
                user_fields.append("first_name")
            if user_fields:
                user.save(update_fields=user_fields)
        resident.save(update_fields=fields)
    return resident


def _lock_open(request: CorrectionRequest) -> CorrectionRequest:
    locked = CorrectionRequest.objects.select_for_update().select_related("resident__home_region").get(pk=request.pk)
    if locked.status != CorrectionRequest.Status.OPEN:
        raise CorrectionDecided()
    return locked


def correction_request_accept(*, actor: User, request: CorrectionRequest, note: str = "") -> CorrectionRequest:
    """Apply the correction (through :func:`resident_details_update`) and close the request.

    "Something else" cannot be applied by the system: the staff member says in ``note`` what they did.
    """
    if not can_manage_resident(actor, request.resident):
        raise OutOfScope()
    note_text = (note or "").strip()
    if len(note_text) > 500 or (note_text and _plain_text(note_text, limit=500) is None):
        raise DecisionNoteRequired(field="note")
    with transaction.atomic():
        locked = _lock_open(request)
        resident = locked.resident
        value = locked.new_value
        match locked.field:
            case CorrectionRequest.Field.NAME:
                resident_details_update(actor=actor, resident=resident, name=value)
            case CorrectionRequest.Field.PHONE:
                resident_details_update(actor=actor, resident=resident, phone=value)
            case CorrectionRequest.Field.ADDRESS:
                resident_details_update(actor=actor, resident=resident, address=value)
            case CorrectionRequest.Field.LANGUAGES:
                resident_details_update(actor=actor, resident=resident, languages=value.split())
            case _:
                if not note_text:
                    raise DecisionNoteRequired(field="note")
        locked.status = CorrectionRequest.Status.ACCEPTED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_note = note_text
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return locked


def correction_request_reject(*, actor: User, request: CorrectionRequest, note: str) -> CorrectionRequest:
    """Refuse the correction, with the reason the person will read."""
    if not can_manage_resident(actor, request.resident):
        raise OutOfScope()
    note_text = _plain_text(note, limit=500)
    if note_text is None:
        raise DecisionNoteRequired(field="note")
    with transaction.atomic():
        locked = _lock_open(request)
        locked.status = CorrectionRequest.Status.REJECTED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_note = note_text
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return locked


def departure_record(
    *,
    actor: User | None,
    resident: Resident,
    reason: str,
    on: dt.date | None = None,
    hours_minutes: int = 0,
    hours_key: str = "",
) -> Departure:
    """Record that a person left: registration inactive, login disabled, relations and proxies ended.

    Called by :func:`timebank.privacy.services.resident_leave` (which first gives the hours left to the pool),
    inside its transaction. ``actor`` is the person themselves, staff of their area, or None (the system).
    """
    if reason not in Departure.Reason.values:
        raise BadDepartureReason(field="reason")
    if actor is not None and actor.resident_id != resident.pk and not can_manage_resident(actor, resident):
        raise OutOfScope()
    now = timezone.now()
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        if Departure.objects.filter(resident=locked).exists() or is_pseudonymised(locked):
            raise PersonLeft()
        departure = Departure.objects.create(
            resident=locked,
            reason=reason,
            left_on=on or timezone.localdate(),
            recorded_by=actor,
            hours_minutes=hours_minutes,
            hours_key=hours_key,
        )
        locked.active = False
        locked.save(update_fields=["active"])
        resident.active = False
        for user in User.objects.select_for_update().filter(resident=locked):
            user.is_active = False
            user.set_unusable_password()
            user.save(update_fields=["is_active", "password"])
        Relationship.objects.filter(resident=locked, ended_at__isnull=True).update(ended_at=now, is_proxy=False)
        Relationship.objects.filter(relative=locked, ended_at__isnull=True).update(ended_at=now, is_proxy=False)
        CorrectionRequest.objects.filter(resident=locked, status=CorrectionRequest.Status.OPEN).update(
            status=CorrectionRequest.Status.REJECTED,
            decided_at=now,
            decided_by=actor if actor is not None and actor.pk else None,
            decision_note="已注销",
        )
    return departure


def resident_pseudonymise(*, resident: Resident, now: dt.datetime | None = None) -> Resident:
    """Replace or clear everything that identifies a person who left (see docs/privacy.md for the list).

    Kept: the row and its id (visits, ratings and ledger accounts point at it), home community, the year of
    birth, sex and the roles, for statistics. The ledger's transfers are not touched. Only a person with a
    recorded :class:`Departure`; done once.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        locked = Resident.objects.select_for_update().select_related("home_region").get(pk=resident.pk)
        departure = Departure.objects.select_for_update().filter(resident=locked).first()
        if departure is None:
            raise BadDepartureReason(field="reason")
        if is_pseudonymised(locked):
            return locked
        locked.name = pseudonym(locked.pk)
        locked.name_pinyin = ""
        locked.name_initials = ""
        locked.id_number = PSEUDONYM_ID_NUMBER
        locked.id_hash = f"{PSEUDONYM_HASH_PREFIX}{locked.pk}"
        locked.birth_date = dt.date(locked.birth_date.year, 1, 1)
        locked.phone = ""
        locked.address = ""
        locked.lat, locked.lon = locked.home_region.lat, locked.home_region.lon
        locked.languages = []
        locked.lives_alone = False
        locked.disability = Resident.Disability.NONE
        locked.low_income = False
        locked.lost_only_child = False
        locked.childless_widowed = False
        locked.barred_until = None
        locked.active = False
        locked.save()
        for user in User.objects.select_for_update().filter(resident=locked):
            user.username = f"left-{locked.pk}-{user.pk}"
            user.first_name = ""
            user.last_name = ""
            user.email = ""
            user.is_active = False
            user.elder_mode = False
            user.set_unusable_password()
            user.save()
        Relationship.objects.filter(resident=locked).update(consent_note="", is_proxy=False)
        Relationship.objects.filter(relative=locked).update(consent_note="", is_proxy=False)
        CorrectionRequest.objects.filter(resident=locked).update(new_value="", reason="", decision_note="已注销")
        departure.pseudonymised_at = moment
        departure.save(update_fields=["pseudonymised_at"])
    resident.refresh_from_db()
    return locked


__all__ = [
    "LANGUAGES",
    "MAX_OPEN_CORRECTIONS",
    "PSEUDONYM_HASH_PREFIX",
    "correction_request_accept",
    "correction_request_create",
    "correction_request_reject",
    "departure_record",
    "is_pseudonymised",
    "pseudonym",
    "resident_details_update",
    "resident_pseudonymise",
]
