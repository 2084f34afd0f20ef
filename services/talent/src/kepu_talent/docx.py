"""The filled 推荐表 (seed 000 附件2) as .docx, for the paper copy (“纸质版和电子版”)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from .fields import SERVICE_CATEGORIES

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class FormData:
    name: str
    gender: str
    age: str
    ethnicity: str
    political_status: str
    education: str
    industry: str
    specialty: str
    employer: str
    position: str
    phone: str
    email: str
    im_account: str
    categories: list[str]
    biography: str
    experience: str
    plan: str
    recommend_opinion: str
    city_opinion: str
    certificate_no: str = ""


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

    row(
        ("姓名", data.name, 1),
        ("性别", data.gender, 1),
        ("年龄", data.age, 1),
        ("民族", data.ethnicity, 1),
        ("政治面貌", data.political_status, 1),
    )
    row(
        ("学历", data.education, 1),
        ("主要从事行业", data.industry, 2),
        ("科普专长", data.specialty, 4),
    )
    row(("工作单位", data.employer, 5), ("职务（职称）", data.position, 3))
    row(
        ("联系电话", data.phone, 2),
        ("电子邮箱", data.email, 2),
        ("QQ号或微信号", data.im_account, 3),
    )
    row(("科普人才服务类别\n（把□涂■，可多选）", category_boxes(data.categories), 9))
    for label, value in (
        ("个人基本情况（可附页）：", data.biography),
        ("科普工作经历（可附页）：", data.experience),
        ("拟开展科普工作（可附页）：", data.plan),
    ):
        cells = table.add_row().cells
        merged = cells[0].merge(cells[9])
        merged.text = f"{label}\n{value}"
    row(
        ("县（市、区）科协推荐意见", data.recommend_opinion, 3),
        ("省辖市科协意见", data.city_opinion, 5),
    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
