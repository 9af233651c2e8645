from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, InvalidInput


class BadPeriod(InvalidInput):
    code = "training.bad_period"
    message = _("A certificate must end on or after the day it starts.")


class BadTrack(InvalidInput):
    code = "training.bad_track"
    message = _("Unknown training track: {value}.")


class DuplicateCertificate(Conflict):
    code = "training.duplicate_certificate"
    message = _("A certificate with this number already exists.")
