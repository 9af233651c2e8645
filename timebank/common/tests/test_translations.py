"""The zh-Hans catalogue: every string translated, placeholders kept, the compiled .mo in step with the .po.

Chinese is the default language, so an untranslated string shows English to an elder. These tests need no
database: they read the catalogues from timebank/locale and render a few messages and one page.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils.translation import override

from timebank.ledger.errors import InsufficientBalance
from timebank.people.errors import ID_REASONS, InvalidIdNumber

LOCALE = Path(settings.BASE_DIR) / "timebank" / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH_MO = ZH_PO.with_suffix(".mo")
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
EN_MO = EN_PO.with_suffix(".mo")

# %(name)s, %s, %d … (python-format) and {name} (python-brace-format); "%%" and "{{" are literal.
_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([sdifr%])")
_BRACE = re.compile(r"(?<!\{)\{(\w*)(?:[!:][^}]*)?\}(?!\})")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Entry:
    msgid: str
    msgstr: str
    plural: str | None = None
    context: str | None = None
    flags: set[str] = field(default_factory=set)
    plural_strs: list[str] = field(default_factory=list)


def parse_po(path: Path) -> list[Entry]:
    """A small reader for the PO files makemessages writes (no obsolete ``#~`` entries: --no-obsolete)."""
    entries: list[Entry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                assert key is not None, f"{path}: continuation line without a keyword: {line!r}"
                fields[key] += ast.literal_eval(line)
            else:
                key, _, rest = line.partition(" ")
                fields[key] = ast.literal_eval(rest)
        if "msgid" not in fields:
            continue
        entries.append(
            Entry(
                msgid=fields["msgid"],
                msgstr=fields.get("msgstr", fields.get("msgstr[0]", "")),
                plural=fields.get("msgid_plural"),
                context=fields.get("msgctxt"),
                flags=flags,
                plural_strs=[v for k, v in sorted(fields.items()) if k.startswith("msgstr[")],
            )
        )
    return entries


@cache
def zh_entries() -> tuple[Entry, ...]:
    entries = parse_po(ZH_PO)
    assert entries and entries[0].msgid == "", "the catalogue starts with its header"
    return tuple(entries)


def messages(entries: tuple[Entry, ...] | list[Entry]) -> list[Entry]:
    return [e for e in entries if e.msgid]


def _placeholders(text: str) -> tuple[list[str], list[str]]:
    percent = sorted(f"{name}:{conv}" for name, conv in _PERCENT.findall(text) if conv != "%")
    brace = sorted(_BRACE.findall(text))
    return percent, brace


def test_every_string_is_translated_and_none_is_fuzzy() -> None:
    header, *rest = zh_entries()
    assert "fuzzy" not in header.flags, "the header is still marked fuzzy"
    assert "Language: zh_Hans" in header.msgstr
    untranslated = [e.msgid for e in rest if not e.msgstr or (e.plural and not all(e.plural_strs))]
    fuzzy = [e.msgid for e in rest if "fuzzy" in e.flags]
    assert not untranslated, f"{len(untranslated)} strings without a translation: {untranslated}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy translations to review: {fuzzy}"


def test_translations_keep_placeholders_and_read_as_chinese() -> None:
    wrong = []
    for e in messages(zh_entries()):
        for translated in e.plural_strs or [e.msgstr]:
            if _placeholders(e.msgid) != _placeholders(translated):
                wrong.append((e.msgid, translated))
    assert not wrong, f"placeholders changed: {wrong}"

    # Every message with a word in it should read as Chinese.
    def words(text: str) -> bool:  # letters outside the placeholders
        return bool(re.search("[A-Za-z]{2,}", re.sub(r"%\(\w+\)[sd]|\{\w+\}", "", text)))

    english = [e.msgid for e in messages(zh_entries()) if words(e.msgid) and not _CJK.search(e.msgstr)]
    assert not english, f"translations without any Chinese: {english}"


def test_english_catalogue_has_the_same_strings_and_stays_empty() -> None:
    en = messages(parse_po(EN_PO))
    assert {(e.context, e.msgid) for e in en} == {(e.context, e.msgid) for e in messages(zh_entries())}
    assert not [e.msgid for e in en if e.msgstr or any(e.plural_strs)], "English is the source: leave msgstr empty"


@pytest.mark.parametrize(("po", "mo"), [(ZH_PO, ZH_MO), (EN_PO, EN_MO)])
def test_compiled_catalogue_matches_the_po(po: Path, mo: Path) -> None:
    assert mo.exists(), f"{mo} is missing: run manage.py compilemessages and commit the .mo"
    with mo.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    stale = []
    for e in messages(parse_po(po)):
        if not e.msgstr or "fuzzy" in e.flags:
            continue  # not compiled: Django falls back to the English source
        key = f"{e.context}\x04{e.msgid}" if e.context else e.msgid
        if e.plural:
            got = [catalog.get((key, i)) for i in range(len(e.plural_strs))]
            if got != e.plural_strs:
                stale.append(e.msgid)
        elif catalog.get(key) != e.msgstr:
            stale.append(e.msgid)
    assert not stale, f"{mo.name} is older than {po.name} for {stale}: run manage.py compilemessages"


def test_error_messages_follow_the_active_language() -> None:
    bad_id = InvalidIdNumber(reason=ID_REASONS["checksum"])
    short = InsufficientBalance(available="1 h", needed="2 h")
    with override("en"):
        assert bad_id.text == (
            "The ID number is not valid: the last character does not match (check for a typing mistake)."
        )
        assert short.text == "Not enough hours: 1 h available, 2 h needed."
    with override("zh-hans"):
        assert bad_id.text.startswith("身份证号") and "校验码" in bad_id.text
        assert not re.search("[A-Za-z]", bad_id.text), bad_id.text
        assert short.text == "时间不够：现有 1 h，需要 2 h。"
        assert "[ledger.insufficient_balance]" in str(short), "the stable code stays in every language"


def test_default_language_is_chinese_and_pages_render_in_it() -> None:
    assert settings.LANGUAGE_CODE == "zh-hans"
    request = RequestFactory().get("/accounts/locked/")
    request.user = AnonymousUser()
    with override("zh-hans"):
        html = render_to_string("web/locked_out.html", request=request)
    assert "登录暂时被锁定" in html and "时间银行" in html and "长辈版" in html
    assert "Login locked" not in html
    with override("en"):
        html = render_to_string("web/locked_out.html", request=request)
    assert "Login locked for a while" in html and "Large-text view for elders" in html
