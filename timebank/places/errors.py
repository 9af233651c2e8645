from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, InvalidInput


class BadRegionLevel(InvalidInput):
    code = "places.bad_level"
    message = _("A {child} cannot sit directly under a {parent}.")


class DuplicateCode(Conflict):
    code = "places.duplicate_code"
    message = _("The code {code} is already in use.")


class BadCoordinates(InvalidInput):
    code = "places.bad_coordinates"
    message = _("The position is not valid: latitude must lie between -90 and 90, longitude between -180 and 180.")
