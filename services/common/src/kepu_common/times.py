"""How times leave a service: ISO 8601 with an offset, in Asia/Shanghai (the users' zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai_iso(value: datetime | date | None) -> str:
    """A time as ISO 8601 in Asia/Shanghai with its ``+08:00`` offset; a date stays a date.

    A naive datetime is taken as UTC (what the services store); ``None`` gives ''."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI).isoformat()
