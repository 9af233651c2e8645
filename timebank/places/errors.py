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


class BadCode(InvalidInput):
    code = "places.bad_code"
    message = _("The code must be 1 to {max_length} letters, digits, dots, dashes or underscores.")


class BadName(InvalidInput):
    code = "places.bad_name"
    message = _("Enter a name (1 to {max_length} characters).")


class BadSiteKind(InvalidInput):
    code = "places.bad_site_kind"
    message = _("Unknown kind of site: {value}.")
