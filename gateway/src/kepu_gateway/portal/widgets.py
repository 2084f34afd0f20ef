"""Dashboard pieces: the portal's "today", reporting periods and a server-rendered SVG bar chart."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from markupsafe import Markup

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today in Asia/Shanghai. When the reporting service plays a clock (demo/e2e stacks set
    ``REPORTING_CLOCK_FILE`` for every process), the portal follows the same clock, so the
    periods it proposes agree with the deadlines the service computes."""
    path = os.environ.get("REPORTING_CLOCK_FILE")
    raw = ""
    if path:
        try:
            raw = Path(path).read_text().strip()
        except OSError:
            raw = ""
    if raw:
        try:
            at = datetime.fromisoformat(raw)
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            return at.astimezone(SHANGHAI).date()
        except ValueError:
            pass
    return datetime.now(SHANGHAI).date()


def month_code(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def previous_month(day: date) -> str:
    """The month being reported now: its deadlines (3rd-5th of the next month) fall in this
    month, so on 23 Nov 2026 it is 2026-10."""
    return month_code(day.year - 1, 12) if day.month == 1 else month_code(day.year, day.month - 1)


def default_periods(day: date) -> dict[str, str]:
    """The period each period kind is reported for now (what the reports page opens)."""
    q = (day.month - 1) // 3 + 1
    quarter = f"{day.year - 1}Q4" if q == 1 else f"{day.year}Q{q - 1}"
    return {"month": previous_month(day), "quarter": quarter, "year": str(day.year)}


def candidate_periods(kind: str, day: date) -> list[str]:
    """The previous and the current period of ``kind`` (the ones whose deadlines may be near)."""
    if kind == "month":
        return [previous_month(day), month_code(day.year, day.month)]
    if kind == "quarter":
        q = (day.month - 1) // 3 + 1
        prev = f"{day.year - 1}Q4" if q == 1 else f"{day.year}Q{q - 1}"
        return [prev, f"{day.year}Q{q}"]
    return [str(day.year - 1), str(day.year)]


def bar_chart(items: list[tuple[str, int]], title: str, unit: str = "人") -> Markup:
    """A horizontal bar chart as inline SVG (no script): one labelled bar per item."""
    label_w, bar_w, row_h, top = 150, 420, 26, 4
    width = label_w + bar_w + 70
    height = top + row_h * max(len(items), 1) + 10
    top_value = max([v for _, v in items] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not items:
        parts.append(f'<text x="0" y="{top + 18}" font-size="13" fill="#666">暂无下级单位</text>')
    for i, (name, value) in enumerate(items):
        y = top + i * row_h
        w = round(bar_w * value / top_value) if value else 0
        label = name if len(name) <= 10 else name[:9] + "…"
        parts.append(
            f'<g class="bar-row" data-name="{escape(name)}" data-value="{value}">'
            f'<text x="{label_w - 8}" y="{y + 17}" font-size="13" text-anchor="end" '
            f'fill="#333">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="16" fill="#eef2f6"/>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="16" fill="#2e8b57">'
            f"<title>{escape(name)}：{value}{escape(unit)}</title></rect>"
            f'<text x="{label_w + bar_w + 8}" y="{y + 17}" font-size="13" fill="#333">'
            f"{value}{escape(unit)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


def ranking_chart(
    items: list[tuple[int, str, float]], title: str, *, highlight: str = "", top: float = 100
) -> Markup:
    """考核排名 as inline SVG horizontal bars: (rank, unit name, score out of ``top``), the
    caller's own unit in another colour."""
    label_w, bar_w, row_h, pad = 170, 400, 26, 4
    width = label_w + bar_w + 80
    height = pad + row_h * max(len(items), 1) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not items:
        parts.append(f'<text x="0" y="{pad + 18}" font-size="13" fill="#666">暂无考核结果</text>')
    for i, (rank, name, value) in enumerate(items):
        y = pad + i * row_h
        w = round(bar_w * min(max(value, 0.0), top) / top) if top else 0
        short = name if len(name) <= 9 else name[:8] + "…"
        colour = "#d2691e" if name == highlight else "#2e8b57"
        parts.append(
            f'<g class="bar-row" data-name="{escape(name)}" data-rank="{rank}" '
            f'data-value="{_num(value)}">'
            f'<text x="{label_w - 8}" y="{y + 17}" font-size="13" text-anchor="end" '
            f'fill="#333">第{rank}名 {escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="16" fill="#eef2f6"/>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="16" fill="{colour}">'
            f"<title>{escape(name)}：{_num(value)}分</title></rect>"
            f'<text x="{label_w + bar_w + 8}" y="{y + 17}" font-size="13" fill="#333">'
            f"{_num(value)}分</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def local_time(value: str | None) -> str:
    """An RFC 3339 moment from a service as Beijing time, e.g. 2026-11-24 02:22."""
    if not value:
        return ""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return value[:16].replace("T", " ")
    if at.tzinfo is not None:
        at = at.astimezone(SHANGHAI)
    return at.strftime("%Y-%m-%d %H:%M")
