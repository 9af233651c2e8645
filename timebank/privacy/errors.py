"""Errors of the privacy services: each with a stable code and a message people can act on."""

from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, NotAllowed


class LeaveHoursHeld(Conflict):
    code = "privacy.leave_hours_held"
    message = _(
        "{minutes} minutes are held for a visit that is not settled yet. Leaving is possible once it is settled."
    )


class NotYourData(NotAllowed):
    code = "privacy.not_your_data"
    message = _("You can see and download only your own data.")
