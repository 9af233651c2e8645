"""Pinyin keys for searching names: full pinyin and initials ("zwm" finds 张伟明)."""

from __future__ import annotations

from pypinyin import lazy_pinyin

# Surnames whose reading differs from the common reading of the character.
_SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "查": "zha",
    "覃": "qin",
    "朴": "piao",
    "尉": "yu",
    "乐": "yue",
    "长": "chang",
    "翟": "zhai",
    "缪": "miao",
}


def pinyin_keys(name: str) -> tuple[str, str]:
    """(full pinyin without spaces, initials), both lower-case ASCII."""
    name = name.strip()
    if not name:
        return "", ""
    syllables = [t for s in lazy_pinyin(name, errors="default") for t in s.split() if t.isalnum()]
    first = _SURNAME_READINGS.get(name[0])
    if first and syllables:
        syllables[0] = first
    syllables = [s.lower() for s in syllables if s]
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables)
    return full, initials
