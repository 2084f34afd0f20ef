"""'Now', injectable: tests play a whole month with a clock they move."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved (tests)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class FileClock:
    """Reads an ISO-8601 instant from a file on every call (end-to-end tests only);
    the system clock when the file is missing or empty."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def reading(self) -> str:
        """The file's instant as written ("" for the system clock)."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def now(self) -> datetime:
        raw = self.reading()
        if not raw:
            return datetime.now(UTC)
        at = datetime.fromisoformat(raw)
        return at if at.tzinfo else at.replace(tzinfo=UTC)


def from_env() -> Clock:
    path = os.environ.get("REPORTING_CLOCK_FILE")
    return FileClock(path) if path else SystemClock()
