"""志愿服务证明 (.docx, Chinese): a volunteer's confirmed hours of one year."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from ..docx import DOCX_TYPE as DOCX_TYPE


@dataclass(frozen=True)
class Certificate:
    number: str
    name: str
    volunteer_no: str
    tenant: str  # the volunteer's 科协
    year: int
    hours: Decimal
    records: int
    beneficiaries: int
    by_kind: list[tuple[str, Decimal]]  # (服务类型, hours)
    issuer: str
    issued_on: date


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def render_certificate(c: Certificate) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(12)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("“i科普”科技志愿服务证明")
    run.bold = True
    run.font.size = Pt(20)
    doc.add_paragraph(f"证明编号：{c.number}")
    doc.add_paragraph(
        f"兹证明{c.name}（志愿者编号{c.volunteer_no}，{c.tenant}）于{c.year}年度参加“i科普”"
        f"科技志愿服务{c.records}次，经所在单位确认的志愿服务时长共计{c.hours}小时，"
        f"服务群众{c.beneficiaries}人次。"
    )
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text = "服务类型"
    table.rows[0].cells[1].text = "确认时长（小时）"
    for label, hours in c.by_kind:
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = str(hours)
    cells = table.add_row().cells
    cells[0].text = "合计"
    cells[1].text = str(c.hours)
    doc.add_paragraph("特此证明。")
    for text in (c.issuer, _cn_date(c.issued_on)):
        para = doc.add_paragraph(text)
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
