"""The fault suite's figures in pytest's terminal summary (no ``-s`` needed)."""

from __future__ import annotations

import pytest
from fault_load import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("fault scenarios: accepted, visible, effects, errors, recovery")
        for line in FIGURES.values():
            terminalreporter.write_line(line)
