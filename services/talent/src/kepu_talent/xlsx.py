"""The 汇总表 as xlsx (seed 000 附表4 county layout, 附表5 society layout).

Both layouts share the official column order; they differ in the sub-title
(“市 县（区）科协” or “市 学会”). Reading uses openpyxl's read-only mode and
reports every unusable cell as (row, column, Chinese message); a file that is not
an xlsx, is corrupted, has the wrong columns or too many rows is rejected whole.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

import openpyxl
from kepu_common.errors import InvalidArgument
from kepu_common.spreadsheet import append_text_row
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .fields import SHEET_FIELDS

TITLE = "河南省科协“百千万科普工程”科普人才信息汇总表"
# (header, field of the record) from the 推荐表 field table; 序号 is not stored.
COLUMNS: tuple[tuple[str, str], ...] = (("序号", "seq"),) + tuple(
    (f.sheet_label, f.key) for f in SHEET_FIELDS
)
HEADERS = tuple(h for h, _ in COLUMNS)
FIELD_COLUMN = {f: get_column_letter(i + 1) for i, (_, f) in enumerate(COLUMNS)}
FIELD_HEADER = {f: h for h, f in COLUMNS}
LAYOUTS = {"county": "附表4", "society": "附表5"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class CellError:
    row: int
    column: str
    field: str
    message: str


@dataclass
class SummarySheet:
    layout: str
    header_row: int
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    cell_errors: list[CellError] = field(default_factory=list)


class SheetRejected(InvalidArgument):
    """The whole file is unusable; ``errors`` locates the problems when it can."""

    def __init__(self, detail: str, errors: list[CellError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


def _header_text(value: object) -> str:
    return "".join(str(value or "").split())


def _cell_value(cell: object, row: int, index: int, errors: list[CellError]) -> object:
    value = getattr(cell, "value", None)
    header, key = COLUMNS[index]
    column = get_column_letter(index + 1)
    if value is None:
        return None
    if getattr(cell, "data_type", None) == "f" or (
        isinstance(value, str) and value.startswith("=")
    ):
        errors.append(CellError(row, column, header, f"“{header}”是公式，请直接填写内容而不是公式"))
        return None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        errors.append(CellError(row, column, header, f"“{header}”被设置为日期格式，应为文本"))
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        if key == "phone":
            errors.append(CellError(row, column, header, "联系电话应为文本格式的号码"))
            return None
        return str(value)
    return str(value)


def read_summary(content: bytes, *, max_rows: int, max_bytes: int) -> SummarySheet:
    """Parse a 汇总表; raises ``SheetRejected`` when the file as a whole is unusable."""
    if not content:
        raise SheetRejected("上传的文件为空。")
    if len(content) > max_bytes:
        raise SheetRejected(f"文件过大（不超过{max_bytes // (1024 * 1024)}MB）。")
    if not content.startswith(b"PK\x03\x04"):
        raise SheetRejected(
            "文件类型不正确：请上传Excel 2007及以上版本的.xlsx文件（不支持.xls、.csv）。"
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError) as exc:
        raise SheetRejected("文件已损坏或不是有效的xlsx文件，无法读取。") from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on broken XML
        raise SheetRejected("文件已损坏或不是有效的xlsx文件，无法读取。") from exc
    try:
        return _read_rows(workbook, max_rows)
    except SheetRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken part inside the zip
        raise SheetRejected("文件已损坏或内容无法解析，请用Excel另存为.xlsx后重试。") from exc
    finally:
        workbook.close()


def _read_rows(workbook: openpyxl.Workbook, max_rows: int) -> SummarySheet:
    if not workbook.worksheets:
        raise SheetRejected("文件中没有工作表。")
    sheet = workbook.worksheets[0]
    layout = "county"
    header_row = 0
    result: SummarySheet | None = None
    count = 0
    for row_number, cells in enumerate(sheet.iter_rows(), start=1):
        if result is None:
            texts = [_header_text(getattr(c, "value", None)) for c in cells]
            joined = "".join(texts)
            if "姓名" in texts and "服务类别" in texts:
                header_row = row_number
                _check_header(texts, row_number)
                result = SummarySheet(layout=layout, header_row=header_row)
            elif "学会" in joined and "汇总表" not in joined:
                layout = "society"
            if result is None and row_number >= 10:
                raise SheetRejected(
                    "未找到汇总表的表头行：应有“" + "、".join(HEADERS) + "”十列（见附表4、附表5）。"
                )
            continue
        values = [
            _cell_value(c, row_number, i, result.cell_errors)
            for i, c in enumerate(cells[: len(COLUMNS)])
        ]
        raw = dict(zip((f for _, f in COLUMNS), values, strict=False))
        if all(v in (None, "") for k, v in raw.items() if k != "seq"):
            continue
        count += 1
        if count > max_rows:
            raise SheetRejected(f"文件超过{max_rows}行的上限，请拆分后分批导入。")
        result.rows.append((row_number, raw))
    if result is None:
        raise SheetRejected(
            "未找到汇总表的表头行：应有“" + "、".join(HEADERS) + "”十列（见附表4、附表5）。"
        )
    if not result.rows:
        raise SheetRejected("汇总表中没有人才数据。")
    return result


def _check_header(texts: list[str], row: int) -> None:
    errors = []
    for i, expected in enumerate(HEADERS):
        actual = texts[i] if i < len(texts) else ""
        if actual != expected:
            col = get_column_letter(i + 1)
            errors.append(
                CellError(row, col, expected, f"第{col}列应为“{expected}”，实为“{actual}”")
            )
    if errors:
        raise SheetRejected(
            f"第{row}行表头与汇总表的规定列不一致："
            + "；".join(e.message for e in errors[:5])
            + "。",
            errors,
        )


def write_summary(
    rows: Iterable[dict[str, object]], *, layout: str, city_name: str, unit_name: str
) -> bytes:
    """The 汇总表 of ``rows`` (dicts with the record's fields) in the official layout."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "汇总表"
    last = get_column_letter(len(COLUMNS))
    sheet.append([TITLE])
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    unit_label = "学会" if layout == "society" else "县（区）科协"
    append_text_row(sheet, [f"{city_name or '    '}  市    {unit_name or '    '}  {unit_label}"])
    sheet.merge_cells(f"A2:{last}2")
    sheet.append(list(HEADERS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for seq, row in enumerate(rows, start=1):
        values: list[object] = []
        for _, key in COLUMNS:
            if key == "seq":
                values.append(seq)
            elif key == "categories":
                values.append("、".join(row.get("categories") or []))  # type: ignore[arg-type]
            else:
                values.append(str(row.get(key) or ""))
        append_text_row(sheet, values)  # a name like "=HYPERLINK(...)" stays a name
    for i, width in enumerate((6, 22, 10, 6, 24, 14, 16, 14, 20, 30), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
