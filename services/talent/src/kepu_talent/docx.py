"""The filled 推荐表 (seed 000 附件2) as .docx, for the paper copy (“纸质版和电子版”)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from .fields import LABELS, SERVICE_CATEGORIES

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class FormData:
    fields: dict[str, Any]  # the record's values by key of the 推荐表 field table
    age: str
    recommend_opinion: str
    city_opinion: str
    certificate_no: str = ""


# The form's grid, ten columns: (key, columns its value spans) per row; 年龄 comes from
# 出生年月. Then the long texts, one row each. Labels come from the field table.
GRID: tuple[tuple[tuple[str, int], ...], ...] = (
    (("name", 1), ("gender", 1), ("age", 1), ("ethnicity", 1), ("political_status", 1)),
    (("education", 1), ("industry", 2), ("specialty", 4)),
    (("employer", 5), ("position", 3)),
    (("phone", 2), ("email", 2), ("im_account", 3)),
    (("categories", 9),),
)
LONG_TEXTS = ("biography", "experience", "plan")


def category_boxes(selected: list[str]) -> str:
    """“把□涂■，可多选”: the nine boxes with the selected ones filled."""
    boxes = [("■" if c in selected else "□") + c for c in SERVICE_CATEGORIES]
    return "  ".join(boxes[:3]) + "\n" + "  ".join(boxes[3:6]) + "\n" + "  ".join(boxes[6:])


def render_form(data: FormData) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(11)
    doc.add_paragraph("附件2")
    for text, size in (("河南省科协“百千万科普工程”科普人才库", 16), ("推 荐 表", 20)):
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = para.add_run(text)
        run.bold = True
        run.font.size = Pt(size)
    if data.certificate_no:
        doc.add_paragraph(f"建档编号：{data.certificate_no}")

    table = doc.add_table(rows=0, cols=10)
    table.style = "Table Grid"

    def row(*pairs: tuple[str, str, int]) -> None:
        cells = table.add_row().cells
        col = 0
        for label, value, span in pairs:
            cells[col].text = label
            target = cells[col + 1]
            if span > 1:
                target = target.merge(cells[col + span])
            target.text = value
            col += span + 1

    def label(key: str) -> str:
        if key == "age":
            return "年龄"
        if key == "categories":
            return f"{LABELS[key]}\n（把□涂■，可多选）"
        return LABELS[key]

    def value(key: str) -> str:
        if key == "age":
            return data.age
        if key == "categories":
            return category_boxes(data.fields[key])
        return str(data.fields[key])

    for grid_row in GRID:
        row(*((label(key), value(key), span) for key, span in grid_row))
    for key in LONG_TEXTS:
        cells = table.add_row().cells
        merged = cells[0].merge(cells[9])
        merged.text = f"{LABELS[key]}（可附页）：\n{data.fields[key]}"
    row(
        ("县（市、区）科协推荐意见", data.recommend_opinion, 3),
        ("省辖市科协意见", data.city_opinion, 5),
    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
