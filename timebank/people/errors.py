from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, InvalidInput, NotAllowed

ID_REASONS = {
    "shape": _("it must be 17 digits followed by a digit or X"),
    "checksum": _("the last character does not match (check for a typing mistake)"),
    "birth_date": _("the birth date in it does not exist"),
    "future": _("the birth date in it lies in the future"),
}


class InvalidIdNumber(InvalidInput):
    code = "people.invalid_id_number"
    message = _("The ID number is not valid: {reason}.")


class DuplicateIdNumber(Conflict):
    code = "people.duplicate_id_number"
    message = _("A resident with this ID number is already registered.")


class BirthDateMismatch(InvalidInput):
    code = "people.birth_date_mismatch"
    message = _("The birth date does not match the one in the ID number ({expected}).")


class BirthDateInFuture(InvalidInput):
    code = "people.birth_date_future"
    message = _("The birth date lies in the future.")


class InvalidPhone(InvalidInput):
    code = "people.invalid_phone"
    message = _("The phone number is not valid. Enter an 11-digit mobile number or a landline with its area code.")


class InvalidName(InvalidInput):
    code = "people.invalid_name"
    message = _("Enter the person's name (1 to 64 characters).")


class InvalidLanguage(InvalidInput):
    code = "people.invalid_language"
    message = _("Unknown language: {value}.")


class HomeNotCommunity(InvalidInput):
    code = "people.home_not_community"
    message = _("The home must be a village or community, not a town or the city.")


class SelfRelation(InvalidInput):
    code = "people.self_relation"
    message = _("A person cannot be their own relative or proxy.")


class RelationExists(Conflict):
    code = "people.relation_exists"
    message = _("These two people are already linked.")


class ProxyNeedsConsent(InvalidInput):
    code = "people.proxy_needs_consent"
    message = _("Record how the person agreed to the proxy (for example: signed form at the station).")


class NotEligibleForRole(NotAllowed):
    code = "people.not_eligible_for_role"
    message = _("{name} cannot be registered as {role}: {reason}.")


class InvalidFlag(InvalidInput):
    code = "people.invalid_flag"
    message = _("Unknown value {value} for {field_name}.")


class PhoneInUse(Conflict):
    code = "people.phone_in_use"
    message = _("This phone number is already used by another login account.")


class StaffRoleInvalid(InvalidInput):
    code = "people.staff_role_invalid"
    message = _("This staff role does not fit the chosen area: {reason}.")


class WeakPassword(InvalidInput):
    code = "people.weak_password"
    message = _("Choose a stronger password: {reason}")


# --- privacy: correction requests and leaving (people/privacy.py, docs/privacy.md) ---------------------------


class CorrectionReasonRequired(InvalidInput):
    code = "people.correction_reason_required"
    message = _("Say in a few words what is wrong (at most 500 characters).")


class CorrectionValueRequired(InvalidInput):
    code = "people.correction_value_required"
    message = _("Write the correct value (at most 200 characters).")


class CorrectionNotYours(NotAllowed):
    code = "people.correction_not_yours"
    message = _("You can ask for corrections of your own data only.")


class CorrectionTooMany(Conflict):
    code = "people.correction_too_many"
    message = _("You already have {count} requests waiting. Wait for the station's answer first.")


class CorrectionDecided(Conflict):
    code = "people.correction_decided"
    message = _("This request has already been answered.")


class DecisionNoteRequired(InvalidInput):
    code = "people.decision_note_required"
    message = _("Write the reason for your answer, so the person knows (at most 500 characters).")


class PersonLeft(Conflict):
    code = "people.person_left"
    message = _("This person has left the time bank; their data can no longer be changed.")


class BadDepartureReason(InvalidInput):
    code = "people.bad_departure_reason"
    message = _("Choose why the person leaves.")
