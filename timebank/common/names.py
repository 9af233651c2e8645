"""Names people type (a person, an organisation, a team, a site): no invisible or control characters.

A name is shown to other people, printed on certificates and sent to other systems. Characters that
change how the text around them is drawn or hide themselves — bidirectional overrides and isolates
(U+202A–U+202E, U+2066–U+2069), zero-width spaces and joiners (U+200B–U+200D, U+2060, U+FEFF), soft
hyphens, tag characters, line and paragraph separators, other control characters, lone surrogates and
private-use characters — let one name pass for another ("张三" and "张\u200b三" look the same) or turn
the text after it around. They are refused: Unicode general categories Cc, Cf, Zl, Zp, Cs and Co.

Everything a real name uses is kept: Chinese characters of every extension (a rare character that this
Python does not know yet is still accepted), the middle dot of transliterated and ethnic-minority names
(阿卜杜·热合曼, 爱新觉罗·溥仪), Latin letters with accents, spaces, hyphens, apostrophes and
variation selectors. Look-alike middle dots (・ ‧ • ∙ ⋅ ･) are written as the usual · (U+00B7), so one
name is stored one way, and the text is NFC-normalised.
"""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext_lazy as _

from .errors import InvalidInput

#: Unicode general categories refused in names.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})
MIDDLE_DOT = "\u00b7"
_DOTS = str.maketrans(dict.fromkeys("\u30fb\u2027\u2022\u2219\u22c5\uff65", MIDDLE_DOT))


class HiddenCharacters(InvalidInput):
    code = "text.hidden_characters"
    message = _(
        "The name contains an invisible or control character (for example a direction mark or a "
        "zero-width space, often copied from another page). Type the name again by hand."
    )


def refused_characters(text: str) -> list[str]:
    """The characters of ``text`` a name may not hold, as ``U+XXXX`` (each once, in order)."""
    found: dict[str, None] = {}
    for ch in text:
        if unicodedata.category(ch) in REFUSED_CATEGORIES:
            found[f"U+{ord(ch):04X}"] = None
    return list(found)


def clean_name(value: str | None, *, field: str = "name") -> str:
    """``value`` stripped, NFC-normalised, with look-alike middle dots as ·; raises
    :class:`HiddenCharacters` (for ``field``) if it holds a refused character. The caller checks the
    length, which differs by kind of name."""
    text = value or ""
    if refused_characters(text):
        raise HiddenCharacters(field=field)
    return unicodedata.normalize("NFC", text).translate(_DOTS).strip()
