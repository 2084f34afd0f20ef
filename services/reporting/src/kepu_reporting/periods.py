"""The reporting calendar as plain Python: periods (``2026-10``, ``2026Q3``, ``2026``), China's
working days, the deadlines of a period and the notices they trigger (reminders, overdue,
escalation). No I/O; ``domain`` holds the report types, values, roll-up and life cycle.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import chinese_calendar
from kepu_common.errors import InvalidArgument
from kepu_common.times import SHANGHAI

PeriodKind = Literal["month", "quarter", "year"]
PERIOD_KIND_CN = {"month": "月度", "quarter": "季度", "year": "年度"}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q(\d)$")
_YEAR = re.compile(r"^(\d{4})$")


# ---------------------------------------------------------------- periods


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: ``2026-10`` (month), ``2026Q3`` (quarter) or ``2026`` (year)."""

    kind: PeriodKind
    year: int
    index: int = 1  # month 1-12, quarter 1-4, 1 for a year

    @property
    def code(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year:04d}Q{self.index}"
        return f"{self.year:04d}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}年{self.index}月"
        if self.kind == "quarter":
            return f"{self.year}年第{'一二三四'[self.index - 1]}季度"
        return f"{self.year}年"

    @property
    def first_month(self) -> int:
        return {"month": self.index, "quarter": 3 * self.index - 2, "year": 1}[self.kind]

    @property
    def last_month(self) -> int:
        return {"month": self.index, "quarter": 3 * self.index, "year": 12}[self.kind]

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        m = self.last_month
        return date(self.year, m, calendar.monthrange(self.year, m)[1])

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def parse_period(text: str, expected_kind: str | None = None) -> Period:
    """Parse a period string; raises ``InvalidArgument`` with a Chinese message."""
    s = (text or "").strip()
    period: Period | None = None
    if m := _MONTH.match(s):
        month = int(m.group(2))
        if 1 <= month <= 12:
            period = Period("month", int(m.group(1)), month)
    elif m := _QUARTER.match(s):
        q = int(m.group(2))
        if 1 <= q <= 4:
            period = Period("quarter", int(m.group(1)), q)
    elif m := _YEAR.match(s):
        period = Period("year", int(m.group(1)))
    if period is None or not 2000 <= period.year <= 2100:
        raise InvalidArgument(
            f"报告期“{text}”格式不正确：月度写作 2026-10，季度写作 2026Q3（1–4 季度），年度写作 2026。"
        )
    if expected_kind and period.kind != expected_kind:
        raise InvalidArgument(
            f"报告期“{text}”是{PERIOD_KIND_CN[period.kind]}期间，"
            f"而该报告按{PERIOD_KIND_CN[expected_kind]}报送。"
        )
    return period


def ensure_not_future(period: Period, today: date) -> None:
    if period.start > today:
        raise InvalidArgument(f"报告期“{period.code}”尚未开始，不能填报未来期间的报告。")


def periods_around(kind: str, today: date) -> list[Period]:
    """The current and previous period of ``kind`` (the ones whose deadlines may be near)."""
    if kind == "month":
        last = date(today.year, today.month, 1) - timedelta(days=1)
        return [Period("month", last.year, last.month), Period("month", today.year, today.month)]
    if kind == "quarter":
        q = (today.month - 1) // 3 + 1
        prev = (
            Period("quarter", today.year - 1, 4) if q == 1 else Period("quarter", today.year, q - 1)
        )
        return [prev, Period("quarter", today.year, q)]
    return [Period("year", today.year - 1), Period("year", today.year)]


# ---------------------------------------------------------------- working days and deadlines


def is_workday(day: date) -> bool:
    """China's official working days (statutory holidays and make-up days from chinese-calendar);
    beyond the package's data, Monday to Friday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def next_workday_on_or_after(day: date) -> date:
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def workdays_after(deadline: date, today: date) -> int:
    """How many working days have passed after ``deadline`` up to and including ``today``."""
    n, day = 0, deadline + timedelta(days=1)
    while day <= today:
        if is_workday(day):
            n += 1
        day += timedelta(days=1)
    return n


@dataclass(frozen=True)
class DueRule:
    """Deadline of one tenant kind: ``day`` of the month ``month_offset`` months after the
    period's last month (anchor ``end``) or first month (anchor ``start``)."""

    month_offset: int
    day: int
    anchor: Literal["start", "end"] = "end"

    def nominal(self, period: Period) -> date:
        base = period.last_month if self.anchor == "end" else period.first_month
        months = period.year * 12 + (base - 1) + self.month_offset
        year, month = divmod(months, 12)
        month += 1
        return date(year, month, min(self.day, calendar.monthrange(year, month)[1]))

    def deadline(self, period: Period) -> date:
        """The nominal date moved to the next working day when it is a holiday or weekend."""
        return next_workday_on_or_after(self.nominal(period))


def local_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def is_on_time(submitted_at: datetime, deadline: date) -> bool:
    """Timeliness is judged on the calendar of Asia/Shanghai: any time on the deadline day counts."""
    return local_date(submitted_at) <= deadline


def due_notices(deadline: date, today: date) -> list[str]:
    """Which notices a tenant that has not yet submitted should have received by ``today``:
    reminders three days and one day before, an overdue notice after the deadline, and an
    escalation to the level above after three working days."""
    if today > deadline:
        notices = ["overdue"]
        if workdays_after(deadline, today) >= 3:
            notices.append("escalation")
        return notices
    days_left = (deadline - today).days
    if days_left <= 1:
        return ["reminder_1d"]
    if days_left <= 3:
        return ["reminder_3d"]
    return []
