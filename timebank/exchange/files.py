"""Reading and writing the exchange tables as xlsx (openpyxl) or CSV (UTF-8 with a byte-order mark, which
Excel opens correctly; an import also accepts GB 18030, what Chinese Excel saves as "CSV")."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from .layout import DATE_FORMAT, DATETIME_FORMAT, Table

MAX_ROWS = 50_000
_FORMULA = ("=", "+", "-", "@")


@dataclass(frozen=True)
class RowError:
    """One problem: the spreadsheet row (the header is row 1; 0 for the file as a whole), the column's
    header (empty when the row as a whole is at fault), its key, and the reason in the user's language."""

    row: int
    column: str
    key: str
    reason: str


@dataclass
class Sheet:
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    header_ok: bool = True
    errors: list[RowError] = field(default_factory=list)


def _safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return _safe(value) if kind == "text" else value


def write_xlsx(tables: Sequence[tuple[Table, list[dict[str, Any]]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for table, rows in tables:
        ws = wb.create_sheet(table.sheet)
        ws.append(table.headers)
        for row in rows:
            ws.append([_plain(row.get(c.key), c.type) for c in table.columns])
        for index, column in enumerate(table.columns, start=1):
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = max(10, min(40, 2 * len(column.header) + 2))
            if column.type == "text":  # ID and record numbers stay text: 18 digits do not survive as a number
                for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "@"
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_csv(table: Table, rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in rows:
        writer.writerow([_plain(row.get(c.key), c.type) for c in table.columns])
    return out.getvalue().encode("utf-8-sig")


def write_csv_zip(tables: Sequence[tuple[Table, list[dict[str, Any]]]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for table, rows in tables:
            zf.writestr(f"{table.key}.csv", write_csv(table, rows))
    return out.getvalue()


# ------------------------------------------------------------------------------------------------ read


def _header_map(table: Table) -> dict[str, str]:
    names: dict[str, str] = {}
    for column in table.columns:
        names[column.header.replace(" ", "")] = column.key
        names[column.key.lower()] = column.key
    return names


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _rows_to_sheet(table: Table, raw: list[tuple[int, list[Any]]], sheet: Sheet) -> None:
    if not raw:
        sheet.errors.append(RowError(1, "", "", _("The file has no header row.")))
        return
    header_row, headers = raw[0]
    names = _header_map(table)
    keys: list[str | None] = []
    for value in headers:
        text = _cell_text(value).lstrip("\ufeff").replace(" ", "")
        if not text:
            keys.append(None)
            continue
        key = names.get(text) or names.get(text.lower())
        if key is None:
            reason = _("Unknown column “%(name)s”.") % {"name": text}
            sheet.errors.append(RowError(header_row, text, "", reason))
        elif key in sheet.present:
            sheet.errors.append(RowError(header_row, text, key, _("This column appears twice.")))
            key = None
        else:
            sheet.present.add(key)
        keys.append(key)
    for column in table.columns:
        if column.required and column.key not in sheet.present:
            reason = _("Missing column “%(name)s”.") % {"name": column.header}
            sheet.errors.append(RowError(header_row, column.header, column.key, reason))
    if sheet.errors:  # with the columns wrong, the rows cannot be read: report the header only
        sheet.header_ok = False
        return
    if len(raw) - 1 > MAX_ROWS:
        sheet.errors.append(RowError(0, "", "", _("Too many rows (at most %(n)d).") % {"n": MAX_ROWS}))
        return
    for number, values in raw[1:]:
        if all(_cell_text(v) == "" for v in values):
            continue  # blank lines (Excel keeps formatted empty rows)
        row = {key: (values[i] if i < len(values) else None) for i, key in enumerate(keys) if key is not None}
        sheet.rows.append((number, row))


def read_table(table: Table, data: bytes) -> Sheet:
    """The data rows of ``table`` in ``data`` (xlsx if it is a zip, else CSV), keyed by column key, with
    the file-level problems: unreadable file, unknown, doubled or missing columns, merged cells."""
    sheet = Sheet()
    if data[:4] == b"PK\x03\x04":
        try:
            wb = load_workbook(io.BytesIO(data), data_only=True)
        except Exception as exc:
            sheet.errors.append(RowError(0, "", "", _("The file could not be read as xlsx (%(why)s).") % {"why": exc}))
            return sheet
        ws = wb[table.sheet] if table.sheet in wb.sheetnames else wb.worksheets[0]
        raw = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)]
        _rows_to_sheet(table, raw, sheet)
        headers = [_cell_text(v) for v in (raw[0][1] if raw else [])]
        for merged in ws.merged_cells.ranges:
            col = merged.min_col
            name = headers[col - 1] if col - 1 < len(headers) else get_column_letter(col)
            reason = _("Merged cells %(range)s: unmerge them and fill in every cell.") % {"range": merged.coord}
            for row_number in range(merged.min_row, merged.max_row + 1):
                sheet.errors.append(RowError(row_number, name, "", reason))
        return sheet
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        sheet.errors.append(RowError(0, "", "", _("The file is neither xlsx nor UTF-8 or GB 18030 CSV text.")))
        return sheet
    try:
        raw = [(i, list(r)) for i, r in enumerate(csv.reader(io.StringIO(text)), start=1)]
    except csv.Error as exc:
        sheet.errors.append(RowError(0, "", "", _("The CSV file could not be read (%(why)s).") % {"why": exc}))
        return sheet
    _rows_to_sheet(table, raw, sheet)
    return sheet
