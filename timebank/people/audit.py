"""The audit of staff reads of personal data: one helper for every place a person's record is shown.

Rule: every time a staff member (a social worker, a town administrator, a city supervisor, a partner
organisation's administrator or an operator) sees one person's record (the station's resident page, the
API's resident record, the admin's form of a resident or a user account) a :class:`PersonalDataView` row
of kind ``record`` is written in the same request, before the page is answered. Full values are shown only
on purpose: the full ID number (``services.personal_data_view_record``, kind ``id_number``) and the full
phone number (:func:`phone_reveal`, kind ``phone``), each by staff who manage the person, each recorded.
Lists and searches show masked values and are not recorded row by row; residents looking at their own
record, or at a relative's, are not staff reads and are not recorded.
"""

from __future__ import annotations

from django.db import transaction

from timebank.common.errors import OutOfScope

from .models import PersonalDataView, Resident, User
from .selectors import can_manage_resident, is_staff_member


def record_view_log(*, viewer: User, resident: Resident, purpose: str) -> PersonalDataView | None:
    """Record that ``viewer`` (staff) saw ``resident``'s record; nothing for a resident reading their own."""
    if not viewer.is_authenticated or not is_staff_member(viewer) or viewer.resident_id == resident.pk:
        return None
    with transaction.atomic():
        return PersonalDataView.objects.create(
            viewer=viewer, resident=resident, kind=PersonalDataView.Kind.RECORD, purpose=purpose[:120]
        )


def phone_reveal(*, viewer: User, resident: Resident, purpose: str) -> str:
    """Record that ``viewer`` saw the full phone number, and return it. Only staff who manage the resident."""
    if not can_manage_resident(viewer, resident):
        raise OutOfScope()
    with transaction.atomic():
        PersonalDataView.objects.create(
            viewer=viewer, resident=resident, kind=PersonalDataView.Kind.PHONE, purpose=purpose[:120]
        )
    return resident.phone
