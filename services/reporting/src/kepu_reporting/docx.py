"""The 工作简报 and the compiled annual report as .docx (for the paper copy, seed 000)."""

from __future__ import annotations

import io
from datetime import datetime

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from kepu_common.times import SHANGHAI

from . import domain, periods
from .service import Overview, ReportView

NUMERALS = "一二三四五六七八九十"


def _fmt(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def render(view: ReportView, overview: Overview, generated_at: datetime) -> bytes:
    """Render the tenant's report for the period with its subtree's figures and children."""
    rtype, period = view.rtype, view.period
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(f"{view.tenant.name}“百千万科普工程”{rtype.name}")
    run.bold = True
    run.font.size = Pt(18)
    sub = doc.add_paragraph(f"（{period.label}）")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER

    section = 0

    def heading(text: str) -> None:
        nonlocal section
        p = doc.add_paragraph()
        p.add_run(f"{NUMERALS[section]}、{text}").bold = True
        section += 1

    d = overview.direct
    heading("报送情况")
    levels = "；".join(
        f"{t.label}应报 {t.expected} 个、已报 {t.submitted} 个（{t.completeness:.1%}）"
        for t in overview.levels
    )
    doc.add_paragraph(
        f"直属下级应报 {d.expected} 个，已报 {d.submitted} 个，报送率 {d.completeness:.1%}；"
        f"按时报送 {d.on_time} 个，按时报送率 {d.timeliness:.1%}。"
        + (f"全辖区分级：{levels}。" if levels else "")
        + (
            f"逾期未报 {len(overview.overdue)} 个："
            + "、".join(o[0].name for o in overview.overdue[:50])
            + ("等" if len(overview.overdue) > 50 else "")
            + "。"
            if overview.overdue
            else ""
        )
    )

    numbers = [f for f in rtype.fields if f.kind == "number"]
    figures = overview.figures
    if numbers:
        heading("主要数据")
        table = doc.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, text in zip(
            table.rows[0].cells, ("指标", "本单位填报", "下级汇总", "单位"), strict=True
        ):
            cell.text = text
        for f in numbers:
            cells = table.add_row().cells
            cells[0].text = f.label
            cells[1].text = _fmt(view.values.get(f.key, 0))
            cells[2].text = _fmt(figures.sums.get(f.key, 0))
            cells[3].text = f.unit
        doc.add_paragraph(
            f"下级汇总含 {figures.briefs} 份已报送的简报（按 {len(figures.sources)} 份计入："
            + "、".join(x.tenant.name for x in figures.sources[:50])
            + ("等" if len(figures.sources) > 50 else "")
            + "）。"
            + domain.SUMS_RULE
        )

    for f in rtype.fields:
        value = view.values.get(f.key)
        if f.kind == "text" and value:
            heading(f.label)
            for para in str(value).splitlines():
                if para.strip():
                    doc.add_paragraph(para.strip())
        elif f.kind == "list" and value:
            heading(f.label)
            for i, item in enumerate(value, 1):
                doc.add_paragraph(f"{i}. {item}")

    if overview.children:
        heading("各单位报送明细")
        table = doc.add_table(rows=1, cols=4 + len(numbers))
        table.style = "Table Grid"
        head = ["单位", "状态", "提交时间", "是否按时"] + [f.label for f in numbers]
        for cell, text in zip(table.rows[0].cells, head, strict=True):
            cell.text = text
        for c in overview.children:
            rep = c.row.report
            cells = table.add_row().cells
            cells[0].text = c.row.tenant.name
            cells[1].text = domain.STATUS_CN[rep.status if rep else domain.NONE]
            cells[2].text = (
                periods.local_date(rep.submitted_at).isoformat() if rep and rep.submitted_at else ""
            )
            cells[3].text = (
                ("按时" if rep.on_time else "逾期") if rep and rep.on_time is not None else ""
            )
            for i, f in enumerate(numbers):
                cells[4 + i].text = _fmt(rep.values.get(f.key, "")) if rep else ""
        texts = [f for f in rtype.fields if f.kind == "text"]
        narratives = [
            (c.row.tenant.name, c.row.report)
            for c in overview.children
            if c.row.report and c.row.report.status in domain.COUNTED
        ]
        if texts and narratives:
            heading("各单位工作情况汇编")
            for name, rep in narratives:
                assert rep is not None
                body = "；".join(str(rep.values[f.key]) for f in texts if rep.values.get(f.key))
                if body:
                    p = doc.add_paragraph()
                    p.add_run(f"{name}：").bold = True
                    p.add_run(body)

    foot = doc.add_paragraph(
        f"{view.tenant.name}　{generated_at.astimezone(SHANGHAI):%Y年%m月%d日}"
    )
    foot.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def filename(view: ReportView) -> str:
    return f"{view.rtype.code}_{view.period.code}_{view.tenant.code}.docx"
