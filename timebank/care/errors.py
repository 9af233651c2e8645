from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, InvalidInput, NotAllowed, NotFound


class UnknownItem(NotFound):
    code = "care.unknown_item"
    message = _("There is no such service in the catalogue.")


class BadWindow(InvalidInput):
    code = "care.bad_window"
    message = _("The time is not possible: {reason}.")


class BadPreference(InvalidInput):
    code = "care.bad_preference"
    message = _("Unknown preference: {value}.")


class NotTheirElder(NotAllowed):
    code = "care.not_their_elder"
    message = _("You can only ask for help for yourself or for an elder who chose you as proxy.")


class IllegalTransition(Conflict):
    code = "care.illegal_transition"
    message = _("This cannot be done now: the {thing} is “{status}”.")


class NotQualified(NotAllowed):
    code = "care.not_qualified"
    message = _("{name} cannot take this service: {reason}.")


class DoubleBooked(Conflict):
    code = "care.double_booked"
    message = _("{name} already has a visit at that time.")


class WrongCode(InvalidInput):
    code = "care.wrong_code"
    message = _("The code does not match the elder's card. Check the card, or ask the station to confirm.")


class TooManyCodeAttempts(NotAllowed):
    code = "care.too_many_attempts"
    message = _("Too many wrong codes for this visit. The community station must now confirm it.")


class TooFar(InvalidInput):
    code = "care.too_far"
    message = _("You are {distance} m from the visit place; check-in works within {limit} m.")


class OutsideWindow(InvalidInput):
    code = "care.outside_window"
    message = _("Check-in is possible from one hour before the visit time until its end.")


class ImplausibleTime(InvalidInput):
    code = "care.implausible_time"
    message = _("The times are not plausible: {reason}.")


class NotYourVisit(NotAllowed):
    code = "care.not_your_visit"
    message = _("This is not your visit.")


class CannotConfirm(NotAllowed):
    code = "care.cannot_confirm"
    message = _("Only the elder, their proxy or their community station can confirm or dispute this visit.")


class AlreadyRated(Conflict):
    code = "care.already_rated"
    message = _("This visit has already been rated from your side.")


class BadRating(InvalidInput):
    code = "care.bad_rating"
    message = _("Choose between 1 and 5 stars.")


class ReasonRequired(InvalidInput):
    code = "care.reason_required"
    message = _("Write the reason.")


class BadPayer(InvalidInput):
    code = "care.bad_payer"
    message = _("This elder cannot use this way of paying: {reason}.")


class NotEnoughHours(Conflict):
    code = "care.not_enough_hours"
    message = _("{name} has {available} h available; this service needs about {needed} h.")


class TooShort(Conflict):
    code = "care.too_short"
    message = _(
        "This visit lasted {minutes} minutes, too short to earn hours (a visit earns hours from {least} minutes): "
        "nothing is paid for it."
    )


class GuaranteeNotYet(Conflict):
    code = "care.guarantee_not_yet"
    message = _("The government guarantee is used only for a redemption no volunteer took within {hours} hours.")


class NoCard(Conflict):
    code = "care.no_card"
    message = _("This elder has no valid card. Print a new card at the community station.")


class BadPartPayment(InvalidInput):
    code = "care.bad_part_payment"
    message = _("To pay in part, give the minutes to pay: more than 0 and less than the {held} minutes held.")


class NotAnElder(InvalidInput):
    code = "care.not_an_elder"
    message = _("{name} is not registered as an elder. Register the elder role at the station first.")
