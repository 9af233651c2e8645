"""Every error a user can meet (each :class:`DomainError` subclass, in every app) reads as Chinese in
Chinese, keeps its placeholders, and is raised with its placeholders filled by translated text.

test_translations.py checks the catalogue file; this walks the errors themselves, so it also finds
messages that never reached a catalogue (the app catalogues, e.g. timebank/api/locale, included) and
parameters that put English or a "?" into a Chinese sentence (``reason="the end is in the future"``),
which no catalogue check can see. No database needed.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from django.utils.translation import override

import timebank
from timebank.common.errors import DomainError

ROOT = Path(timebank.__file__).parent
_BRACE = re.compile(r"(?<!\{)\{(\w+)(?:[!:][^}]*)?\}(?!\})")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")

#: Latin words a Chinese message may keep: protocol and format names, header names, scope names.
TECHNICAL = {
    "API",
    "JSON",
    "UTF",
    "UTF-",
    "Content-Type",
    "Content-Length",
    "Authorization",
    "Bearer",
    "CSRF",
    "Idempotency-Key",
    "key",
    "application/json",
    "application",
    "json",
    "read",
    "write",
    "ledger",
    "Retry-After",
    "multipart",
    "form-data",
    "file",
    "ID",
    "PDF",
    "QR",
    "URL",
    "HTTP",
    "HTTPS",
    "Excel",
    "CSV",
    "xlsx",
    "csv",
}


def _skip(name: str) -> bool:
    parts = name.split(".")
    return any(p in ("tests", "migrations", "management") for p in parts) or name in ("timebank.wsgi",)


@cache
def all_errors() -> tuple[type[DomainError], ...]:
    for info in pkgutil.walk_packages([str(ROOT)], prefix="timebank."):
        if not _skip(info.name):
            importlib.import_module(info.name)

    def walk(cls: type[DomainError]) -> Iterator[type[DomainError]]:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("timebank.") and ".tests" not in sub.__module__:
                yield sub
            yield from walk(sub)

    return tuple(dict.fromkeys([DomainError, *walk(DomainError)]))


def _latin_words(text: str) -> list[str]:
    text = _BRACE.sub("", text)
    return [w for w in _WORD.findall(text) if w not in TECHNICAL and w.lower() not in TECHNICAL]


def test_the_walk_finds_the_errors_of_every_app() -> None:
    codes = {cls.code for cls in all_errors()}
    assert len(all_errors()) > 50
    for prefix in ("api.", "care.", "ledger.", "certificates.", "training.", "people.", "teams.", "rewards."):
        assert any(c.startswith(prefix) for c in codes), prefix


def test_every_error_message_reads_as_chinese_with_its_placeholders() -> None:
    problems = []
    for cls in all_errors():
        with override("en"):
            en = str(cls.message)
        with override("zh-hans"):
            zh = str(cls.message)
        where = f"{cls.code} ({cls.__module__}.{cls.__name__})"
        if zh == en or not _CJK.search(zh):
            problems.append(f"{where}: not translated: {en!r}")
            continue
        if latin := _latin_words(zh):
            problems.append(f"{where}: English words {latin} in {zh!r}")
        if sorted(_BRACE.findall(en)) != sorted(_BRACE.findall(zh)):
            problems.append(f"{where}: placeholders differ: {en!r} / {zh!r}")
    assert not problems, "\n".join(problems)


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _error_called(module: object, node: ast.Call) -> type[DomainError] | None:
    """The DomainError class a call makes, resolved in the calling module's namespace (``Err(…)`` or
    ``errors.Err(…)``); None for any other call."""
    target: object = None
    if isinstance(node.func, ast.Name):
        target = getattr(module, node.func.id, None)
    elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
        target = getattr(getattr(module, node.func.value.id, None), node.func.attr, None)
    if isinstance(target, type) and issubclass(target, DomainError):
        return target
    return None


def _literal_text(node: ast.expr) -> str | None:
    """The text of a string literal or f-string (its constant parts), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def test_every_raise_fills_its_placeholders_with_translated_text() -> None:
    """Each ``SomeError(…)`` in the code: every placeholder of the message is passed (else the user sees
    ``{reason}``), and no passed text is an English literal or a stand-in like ``"?"`` (a Chinese
    sentence around it would be half English). ``field=`` names an input and is not shown."""
    all_errors()
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent)
        name = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        if any(p in ("tests", "migrations") for p in rel.parts) or name == "timebank.wsgi":  # wsgi runs the checks
            continue
        module = importlib.import_module(name)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or (cls := _error_called(module, node)) is None:
                continue
            where = f"{rel}:{node.lineno} {cls.__name__}"
            if node.args:  # a message given in place of the class's own
                text = _literal_text(node.args[0])
                if text is not None:
                    problems.append(f"{where}: untranslated message {text!r}")
            given = {k.arg for k in node.keywords}
            if None not in given:  # no **params: the placeholders must all be given
                with override("en"):
                    wanted = set(_BRACE.findall(str(cls.message)))
                if not node.args and (missing := wanted - given):
                    problems.append(f"{where}: placeholders {sorted(missing)} not filled")
            for kw in node.keywords:
                if kw.arg in (None, "field"):
                    continue
                text = _literal_text(kw.value)
                plain = isinstance(kw.value, ast.Constant)
                if text is not None and (_WORD.search(text) or (plain and text.strip() in ("?", ""))):
                    problems.append(f"{where}: {kw.arg}={text!r} is shown untranslated")
    assert not problems, "\n".join(problems)
