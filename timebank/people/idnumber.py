"""Chinese resident ID numbers (GB 11643-1999): 18 characters, ISO 7064 MOD 11-2 check character.

Layout: 6-digit address code, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd = male, even = female),
check character (0-9 or X).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")


class IdNumberError(ValueError):
    """``reason`` is one of: shape, checksum, birth_date, future."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedId:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"
    area_code: str


def normalise(raw: str) -> str:
    return raw.strip().replace(" ", "").upper()


def check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse(raw: str, *, today: dt.date | None = None) -> ParsedId:
    number = normalise(raw)
    if not _SHAPE.match(number):
        raise IdNumberError("shape")
    if check_char(number[:17]) != number[17]:
        raise IdNumberError("checksum")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("birth_date") from None
    if birth.year < 1900:
        raise IdNumberError("birth_date")
    if birth > (today or dt.date.today()):
        raise IdNumberError("future")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ParsedId(number=number, birth_date=birth, sex=sex, area_code=number[:6])


def make(area_code: str, birth_date: dt.date, sequence: int) -> str:
    """Build a valid number (for demo data and tests)."""
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def keyed_hash(number: str) -> str:
    """HMAC-SHA256 of the normalised number: lets staff find a person by exact number without decrypting."""
    key = settings.ID_HASH_KEY.encode()
    return hmac.new(key, normalise(number).encode(), hashlib.sha256).hexdigest()


def mask(number: str) -> str:
    """First 4 and last 4 characters shown: 4420**********123X."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
