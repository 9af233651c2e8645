"""docs/exchange.md documents every column of the layout, with the header and the import rule."""

from __future__ import annotations

from pathlib import Path

from timebank.exchange.layout import TABLES

DOC = Path(__file__).resolve().parents[3] / "docs" / "exchange.md"


def test_docs_list_every_column():
    text = DOC.read_text(encoding="utf-8")
    for table in TABLES.values():
        for number, column in enumerate(table.columns, start=1):
            rule = "required" if column.required else ("optional" if column.imported else "export only")
            assert f"| {number} | `{column.key}` | {column.header} | {column.type} | {rule} |" in text, column.key
