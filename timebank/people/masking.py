"""How personal data is shown to people who do not need it in full: masked, like ID numbers.

A phone number shows its first three and last four digits (138****1234); an ID number its first and last
four characters (``idnumber.mask``). The full value is shown only on purpose, through an audited reveal
(``people.audit``).
"""

from __future__ import annotations

from .idnumber import mask as mask_id_number

__all__ = ["mask_id_number", "mask_phone"]


def mask_phone(raw: str) -> str:
    """``+8613812345678`` → ``138****5678``; numbers of other countries keep their ``+`` and code's first digits.

    Fewer than seven digits are masked entirely; an empty value stays empty.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    if text.startswith("+86"):
        text = text[3:]
    plus = "+" if text.startswith("+") else ""
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) < 7:
        return plus + "*" * len(digits)
    return plus + digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
