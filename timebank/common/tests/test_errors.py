"""common.errors: stable codes, lazily translated messages, parameters filled in the active language."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from timebank.common.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound, OutOfScope
from timebank.common.text import interpolate_lazy, join_lazy


def test_codes_statuses_and_lazy_messages():
    for cls, code, status in [
        (DomainError, "error", 400),
        (InvalidInput, "invalid_input", 400),
        (NotAllowed, "not_allowed", 403),
        (OutOfScope, "out_of_scope", 403),
        (NotFound, "not_found", 404),
        (Conflict, "conflict", 409),
    ]:
        assert (cls.code, cls.status) == (code, status)
        assert isinstance(cls.message, Promise)


def test_text_fills_parameters_and_as_dict():
    class Demo(InvalidInput):
        code = "demo"
        message = _("Value {value} for {field_name}.")

    err = Demo(field="x", value=3, field_name=_("role"))
    with override("en"):
        assert err.text == "Value 3 for role."
        assert str(err) == "[demo] Value 3 for role."
        assert err.as_dict() == {"code": "demo", "message": "Value 3 for role.", "field": "x"}


def test_lazy_helpers_stay_lazy():
    text = interpolate_lazy(_("under %(age)s"), {"age": 18})
    joined = join_lazy("; ", [text, _("Yes")])
    assert isinstance(text, Promise) and isinstance(joined, Promise)
    with override("en"):
        assert str(joined) == "under 18; Yes"
