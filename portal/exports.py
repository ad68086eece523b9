"""Any table of the portal as CSV or XLSX, as bytes ready to send or save.

Pure: a `Table` in, bytes out; no I/O, no clock. The web server and `popreg report`
both call these, so a table downloads the same wherever it comes from.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Cell = str | int | float | date | None

# Excel refuses these in a sheet's name, and allows at most 31 characters.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_MAX = 31
_WIDTH_MIN, _WIDTH_MAX = 8, 60
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


@dataclass(frozen=True)
class Table:
    """A titled table: one header per column, rows of plain values.

    Values stay typed (int, float, date) until the last moment so that the XLSX holds
    numbers and dates a spreadsheet can compute with, not their text."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]] = field(default_factory=list)

    def __post_init__(self) -> None:
        width = len(self.headers)
        for number, row in enumerate(self.rows, start=1):
            if len(row) != width:
                raise ValueError(
                    f"row {number} of {self.title!r} has {len(row)} values for {width} columns"
                )


def csv_text(value: Cell) -> str:
    """A value as CSV writes it: None and NaN empty (no figure), dates in ISO form."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def to_csv(table: Table) -> bytes:
    """The table as CSV: a header line then the rows, UTF-8 with a byte-order mark.

    Why the BOM: Excel opens a CSV without one in the machine's legacy code page
    (Windows-1258 or 1252 on Vietnamese and Western machines), turning "Cà Mau" into
    "CÃ  Mau"; with the BOM it reads UTF-8. Python's `utf-8-sig`, pandas and LibreOffice
    skip it. The title is not written: a CSV has one header line, and tools reading it
    expect the column names there."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([csv_text(v) for v in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")


def sheet_name(title: str) -> str:
    """A title Excel accepts as a sheet name: no []:*?/\\, at most 31 characters."""
    name = _SHEET_FORBIDDEN.sub(" ", title).strip().strip("'")
    return (name[:_SHEET_MAX].rstrip() or "Sheet1") if name else "Sheet1"


def to_xlsx(table: Table) -> bytes:
    """The table as an Excel workbook of one sheet.

    The sheet is named after the title (cut to Excel's 31 characters); row 1 holds the
    headers in bold and is frozen, so a reader scrolling a long table keeps the column
    names, and the data start at row 2, where spreadsheet tools and `pandas.read_excel`
    expect them. Numbers are numbers, dates dates (ISO-formatted), NaN and None empty
    cells. Widths follow the longest text of each column, within bounds."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = sheet_name(table.title)
    sheet.append(list(table.headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(str(h)) for h in table.headers]
    for number, row in enumerate(table.rows, start=2):
        for column, value in enumerate(row, start=1):
            stored = None if isinstance(value, float) and math.isnan(value) else value
            cell = sheet.cell(row=number, column=column, value=stored)
            if isinstance(value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(value, date):
                cell.number_format = DATE_FORMAT
            widths[column - 1] = max(widths[column - 1], len(_shown(value)))
    for column, width in enumerate(widths, start=1):
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = min(max(width + 2, _WIDTH_MIN), _WIDTH_MAX)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _shown(value: Cell) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return csv_text(value)
