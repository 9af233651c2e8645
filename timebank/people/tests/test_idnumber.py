import datetime as dt

import pytest

from timebank.people import idnumber

VALID = idnumber.make("442000", dt.date(1956, 3, 8), 123)


def test_known_valid_number_with_x_checksum():
    # GB 11643 worked example: 11010519491231002X
    parsed = idnumber.parse("11010519491231002x")
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "F"


def test_make_then_parse_round_trip():
    number = idnumber.make("442000", dt.date(1956, 3, 8), 123)
    parsed = idnumber.parse(number)
    assert parsed.birth_date == dt.date(1956, 3, 8)
    assert parsed.sex == "M"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12345", "shape"),
        ("44200019560308123A", "shape"),
        (VALID[:17] + ("0" if VALID[17] != "0" else "1"), "checksum"),
        (VALID[:16] + str((int(VALID[16]) + 1) % 10) + VALID[17], "checksum"),
    ],
)
def test_invalid_numbers_name_their_reason(raw, reason):
    with pytest.raises(idnumber.IdNumberError) as info:
        idnumber.parse(raw)
    assert info.value.reason == reason


def test_impossible_and_future_birth_dates():
    first17 = "44200019560230123"
    with pytest.raises(idnumber.IdNumberError) as info:
        idnumber.parse(first17 + idnumber.check_char(first17))
    assert info.value.reason == "birth_date"
    future = idnumber.make("442000", dt.date(2030, 1, 1), 12)
    with pytest.raises(idnumber.IdNumberError) as info:
        idnumber.parse(future, today=dt.date(2026, 11, 28))
    assert info.value.reason == "future"


def test_mask_shows_first_and_last_four():
    assert idnumber.mask("11010519491231002X") == "1101**********002X"


def test_keyed_hash_ignores_case_and_spaces():
    assert idnumber.keyed_hash("11010519491231002x ") == idnumber.keyed_hash("11010519491231002X")
