from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, InvalidInput


class NeedWithoutLocation(InvalidInput):
    code = "matching.need_without_location"
    message = _("This need has no usable place (latitude/longitude), so nobody can be found near it.")


class BadRadius(InvalidInput):
    code = "matching.bad_radius"
    message = _("The distance must be a whole number of metres above zero and at most {limit} (given: {value}).")


class BadSchedule(InvalidInput):
    code = "matching.bad_schedule"
    message = _("The schedule is not possible: {reason}.")


class NotAVolunteer(InvalidInput):
    code = "matching.not_a_volunteer"
    message = _("{name} is not registered as a volunteer.")


class BadDay(InvalidInput):
    code = "matching.bad_day"
    message = _("The day is not possible: {reason}.")


class ProposalClosed(Conflict):
    code = "matching.proposal_closed"
    message = _("This proposal has already been {status}; make a new one.")


class RowNotInProposal(InvalidInput):
    code = "matching.row_not_in_proposal"
    message = _("This row belongs to another proposal.")


class NothingToDispatch(InvalidInput):
    code = "matching.nothing_to_dispatch"
    message = _("There are no open needs in {area} on {day}: nothing to dispatch.")
