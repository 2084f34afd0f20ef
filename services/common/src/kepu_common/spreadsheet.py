"""Cells we write into spreadsheets stay text: no formula injection (CSV/formula injection).

openpyxl stores a string that starts with ``=`` as a formula, and spreadsheet programs also
evaluate text starting with ``+``, ``-``, ``@`` (or a tab/CR before one of them) when it is
edited. A talent named ``=HYPERLINK(...)`` must open as that name, not as a live link.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def keep_as_text(cells: Iterable[Any]) -> None:
    """Make every openpyxl cell among ``cells`` whose text could be evaluated a plain string
    cell with Excel's quote prefix (shown exactly as written, never evaluated, also when the
    user edits it)."""
    for cell in cells:
        if looks_like_formula(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True


def append_text_row(sheet: Any, values: list[object]) -> None:
    """``sheet.append(values)`` with :func:`keep_as_text` on the new row."""
    sheet.append(values)
    if any(looks_like_formula(v) for v in values):
        # the appended row by number: sheet.max_row and sheet[row] scan every cell (10,000
        # rows took 95 s, past the export deadline)
        row = sheet._current_row
        keep_as_text(sheet.cell(row=row, column=i + 1) for i in range(len(values)))
