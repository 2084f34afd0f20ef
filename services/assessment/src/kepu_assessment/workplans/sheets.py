"""Work plans as files: the xlsx table a plan is imported from (序号, 任务, 牵头单位, 参与单位,
完成时限), and the plan with its progress exported as xlsx and as the .docx 督查 report form."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from docx import Document
from docx.shared import Pt
from kepu_common.errors import InvalidArgument
from openpyxl import Workbook, load_workbook

from ..models import Tenant
from . import domain
from .domain import Plan

COLUMNS = ("序号", "任务", "牵头单位", "参与单位", "完成时限")
ALL_MEMBERS = ("各成员单位", "全体成员单位")
MAX_BYTES = 5 * 1024 * 1024


def _cell(v: Any) -> str:
    """Text for a cell; a leading formula sign is neutralised (no formula injection)."""
    s = "" if v is None else str(v)
    return "'" + s if s[:1] in ("=", "+", "-", "@") else s


def read_tasks(content: bytes, plan: Plan, units: Mapping[str, Tenant]) -> list[dict[str, Any]]:
    """Task inputs from the sheet; unit names are matched among ``units`` (the owner's)."""
    if not content or len(content) > MAX_BYTES:
        raise InvalidArgument("请上传不超过5MB的xlsx文件。")
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not xlsx
        raise InvalidArgument("文件不是有效的xlsx表格。") from exc
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    head = next(
        (i for i, r in enumerate(rows) if r and "序号" in [str(c).strip() for c in r if c]), None
    )
    if head is None:
        raise InvalidArgument(f"表格缺少表头（{'、'.join(COLUMNS)}）。")
    cols = {str(c).strip(): j for j, c in enumerate(rows[head]) if c is not None}
    missing = [c for c in COLUMNS if c not in cols]
    if missing:
        raise InvalidArgument(f"表格缺少列：{'、'.join(missing)}。")
    by_name = {t.name: t.id for t in units.values()}
    members = [t.id for t in units.values() if t.kind == domain.DEPARTMENT]
    tasks = []
    for n, row in enumerate(rows[head + 1 :], head + 2):

        def get(col: str, row: Sequence[Any] = row) -> Any:
            j = cols[col]
            return row[j] if j < len(row) else None

        if not str(get("任务") or "").strip():
            continue
        try:
            seq = int(str(get("序号")).strip())
        except ValueError as exc:
            raise InvalidArgument(f"第{n}行的序号不是整数。") from exc
        names = domain.split_units(get("牵头单位"))
        ids = _unit_ids(names, by_name, members, n, "牵头单位")
        if not ids:
            raise InvalidArgument(f"第{n}行缺少牵头单位。")
        parts = _unit_ids(domain.split_units(get("参与单位")), by_name, members, n, "参与单位")
        try:
            due = domain.parse_due(get("完成时限"), plan)
        except InvalidArgument as exc:
            raise InvalidArgument(f"第{n}行：{exc.detail}") from exc
        tasks.append(
            {"seq": seq, "text": str(get("任务")).strip(), "lead_unit_id": ids[0],
             "participant_ids": [*ids[1:], *parts],
             "milestones": [{"title": "完成", "due": due.isoformat()}] if due else []}
        )  # fmt: skip
    return tasks


def _unit_ids(
    names: list[str], by_name: Mapping[str, str], members: list[str], row: int, col: str
) -> list[str]:
    out: list[str] = []
    for name in names:
        if name in ALL_MEMBERS:
            out += members
        elif name in by_name:
            out.append(by_name[name])
        else:
            raise InvalidArgument(f"第{row}行的{col}“{name}”不是本单位的下级单位或成员单位。")
    return list(dict.fromkeys(out))


def _status(task: domain.Task, today: date) -> str:
    parts = []
    for m in task.milestones:
        label = "已逾期" if m.overdue(today) else domain.MILESTONE_CN[m.status]
        parts.append(f"{m.title}（{m.due:%Y-%m-%d}）：{label}")
    return "；".join(parts)


def export_xlsx(
    plan: Plan, names: Mapping[str, str], progress: Mapping[str, list[str]], today: date
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "工作要点"
    ws.append([plan.title])
    ws.append(["序号", "任务", "牵头单位", "参与单位", "完成时限及节点", "进展情况"])
    for t in plan.tasks:
        ws.append(
            [t.seq, _cell(t.text), _cell(names.get(t.lead_unit_id, "")),
             _cell("、".join(names.get(u, "") for u in t.participant_ids)),
             _cell(_status(t, today)), _cell("\n".join(progress.get(t.id, [])))]
        )  # fmt: skip
    for col, width in zip("ABCDEF", (6, 60, 16, 24, 30, 60), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_docx(
    plan: Plan,
    owner_name: str,
    names: Mapping[str, str],
    progress: Mapping[str, list[str]],
    supervisions: Sequence[Any],
    today: date,
) -> bytes:
    """The 督查 report form: the tasks with units, milestones and progress, then the visits."""
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.add_heading(f"{plan.title}督查情况报告", level=1)
    doc.add_paragraph(f"制定单位：{owner_name}　　期限：{plan.start_year}—{plan.end_year}年"
                      f"　　填报日期：{today:%Y年%m月%d日}")  # fmt: skip
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, head in zip(
        table.rows[0].cells, ("序号", "任务", "牵头单位", "节点", "进展情况"), strict=True
    ):
        cell.text = head
    for t in plan.tasks:
        row = table.add_row().cells
        row[0].text = str(t.seq)
        row[1].text = t.text
        row[2].text = names.get(t.lead_unit_id, "")
        row[3].text = _status(t, today)
        row[4].text = "\n".join(progress.get(t.id, []))
    doc.add_heading("督查记录", level=2)
    sup = doc.add_table(rows=1, cols=5)
    sup.style = "Table Grid"
    for cell, head in zip(
        sup.rows[0].cells,
        ("督查日期", "被督查单位", "发现问题", "整改时限", "整改情况"),
        strict=True,
    ):
        cell.text = head
    for r in supervisions:
        row = sup.add_row().cells
        row[0].text = f"{r[4]:%Y-%m-%d}"
        row[1].text = names.get(r[3], "")
        row[2].text = r[5]
        row[3].text = f"{r[6]:%Y-%m-%d}" if r[6] else "无需整改"
        row[4].text = (f"已整改（{r[8]:%Y-%m-%d}）{r[9]}" if r[7] else "未整改") if r[6] else ""
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
