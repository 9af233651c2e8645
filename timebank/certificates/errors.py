from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, InvalidInput, NotAllowed


class BadPeriod(InvalidInput):
    code = "certificates.bad_period"
    message = _("The period is not possible: {reason}.")


class NotAVolunteer(NotAllowed):
    code = "certificates.not_a_volunteer"
    message = _("Only a volunteer can apply for a volunteer service certificate, for themselves.")


class NotYourArea(NotAllowed):
    code = "certificates.out_of_scope"
    message = _("This volunteer lives outside the area you look after.")


class IllegalStep(Conflict):
    code = "certificates.illegal_transition"
    message = _("This cannot be done now: the certificate is “{status}”.")


class NoHours(Conflict):
    code = "certificates.no_hours"
    message = _("There is no recorded service in this period: nothing to certify.")


class ReasonNeeded(InvalidInput):
    code = "certificates.reason_required"
    message = _("Please give a reason.")


class AlreadyApplied(Conflict):
    code = "certificates.already_applied"
    message = _("There is already an open application for this period.")
