"""The credential distribution sheet (xlsx) and printable slips (docx, one page per tenant)."""

from __future__ import annotations

import copy
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.text import WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Pt
from kepu_common.spreadsheet import append_text_row
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class IssuedRow:
    tenant_code: str
    tenant_name: str
    tenant_kind: str
    username: str
    password: str


KIND_CN = {
    "province": "省",
    "city": "市",
    "county": "县（区）",
    "township": "乡镇（街道）",
    "society": "学会",
}


def sheet_xlsx(issuer_name: str, login_url: str, rows: Sequence[IssuedRow]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "账号分配表"
    now = datetime.now(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")
    ws.append([f"科普云服务平台 登录账号分配表（{issuer_name}，{now}）"])
    ws.merge_cells("A1:G1")
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["序号", "单位代码", "单位名称", "单位级别", "用户名", "初始密码", "登录地址"])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for i, r in enumerate(rows, 1):
        append_text_row(  # tenant names are typed by admins: never a formula
            ws,
            [
                i,
                r.tenant_code,
                r.tenant_name,
                KIND_CN.get(r.tenant_kind, r.tenant_kind),
                r.username,
                r.password,
                login_url,
            ],
        )
    ws.append([])
    ws.append(
        [
            "说明：初始密码仅在本表中出现一次，平台不保存明文。首次登录须修改密码；请妥善保管，逐级下发。"
        ]
    )
    for col, width in zip("ABCDEFG", (6, 12, 28, 12, 16, 16, 40), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=3, max_row=ws.max_row):
        for cell in row:
            cell.alignment = Alignment(vertical="center")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def slips_docx(issuer_name: str, login_url: str, rows: Sequence[IssuedRow]) -> bytes:
    """One page per tenant. The first page is built with python-docx; the others are copies of
    its XML with their texts replaced, because python-docx's ``add_paragraph`` scans the whole
    body on every call (quadratic: a minute for a province's 2,600 slips)."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(14)
    if not rows:
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()
    today = f"{datetime.now(SHANGHAI):%Y年%m月%d日}"

    def lines(r: IssuedRow) -> list[str]:
        return [
            "科普云服务平台 登录凭据",
            f"单位：{r.tenant_name}（{r.tenant_code}）",
            f"用户名：{r.username}",
            f"初始密码：{r.password}",
            f"登录地址：{login_url}",
            "首次登录后须立即修改初始密码。新密码至少 10 位，包含大写字母、小写字母、数字、特殊字符中的至少三类。",
            f"分发单位：{issuer_name}    日期：{today}",
            "（本凭据请当面交付，妥善保管，切勿转交他人。）",
        ]

    first = lines(rows[0])
    title = doc.add_paragraph()
    run = title.add_run(first[0])
    run.bold = True
    run.font.size = Pt(20)
    page = [title] + [doc.add_paragraph(text) for text in first[1:]]
    page[-1].add_run().add_break(WD_BREAK.PAGE)
    template = [p._p for p in page]
    anchor = template[-1]
    for r in rows[1:]:
        for p_xml, text in zip(template, lines(r), strict=True):
            clone = copy.deepcopy(p_xml)
            clone.findall(qn("w:r"))[0].find(qn("w:t")).text = text
            anchor.addnext(clone)
            anchor = clone
    # no page break after the last slip
    for br in anchor.iter(qn("w:br")):
        br.getparent().remove(br)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
