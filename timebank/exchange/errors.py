from typing import Any

from django.utils.translation import gettext_lazy as _

from timebank.common.errors import InvalidInput


class BadFile(InvalidInput):
    code = "exchange.bad_file"
    message = _("The file could not be read as xlsx or CSV: {reason}")


class FileTooLarge(InvalidInput):
    code = "exchange.file_too_large"
    message = _("The file is too large (at most {limit} rows).")


class BadPeriod(InvalidInput):
    code = "exchange.bad_period"
    message = _("The period ends before it starts.")


class UnknownRegion(InvalidInput):
    code = "exchange.unknown_region"
    message = _("Unknown region code: {code}.")


class BadFormat(InvalidInput):
    code = "exchange.bad_format"
    message = _("Unknown format {value}: use xlsx or csv.")


class ImportRefused(InvalidInput):
    """A commit of a file with bad rows; ``details`` lists each (field ``<row>:<column key>``)."""

    code = "exchange.import_refused"
    message = _("The file has bad rows; nothing was imported.")

    def __init__(self, *, details: list[dict[str, Any]]):
        super().__init__()
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return super().as_dict() | {"details": self.details}
