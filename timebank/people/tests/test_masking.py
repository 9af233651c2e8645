"""Masking: phones like ID numbers (first three and last four digits), user accounts shown by name."""

import pytest

from timebank.people.masking import mask_id_number, mask_phone
from timebank.people.models import User


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("+8613812345678", "138****5678"),
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+85291234567", "+852****4567"),
        ("0760-88881234", "076*****1234"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_mask_phone(raw, shown):
    assert mask_phone(raw) == shown


def test_mask_id_number_is_the_id_rule():
    assert mask_id_number("11010519491231002X") == "1101**********002X"


def test_a_user_reads_as_a_name_never_as_a_phone():
    assert str(User(username="13812345678", first_name="何惠珍")) == "何惠珍"
    assert str(User(username="13812345678")) == "138****5678"
    assert str(User(username="ops")) == "ops"
