"""Shared fixtures of the end-to-end tests: one whole stack per test session."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from kepu_devstack.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Not under pytest's basetemp: a concurrent pytest run may prune those directories.
    var_dir = Path(os.environ.get("KEPU_E2E_VAR_DIR") or tempfile.mkdtemp(prefix="kepu-stack-"))
    # The reporting service reads "now" from this file when it exists (tests play a month).
    s = Stack(var_dir=var_dir, extra_env={"REPORTING_CLOCK_FILE": str(var_dir / "reporting_clock")})
    try:
        s.start()
    except Exception:
        s.stop()
        raise
    yield s
    s.stop()
    if not os.environ.get("KEPU_E2E_VAR_DIR") and not os.environ.get("KEPU_KEEP_STACK"):
        shutil.rmtree(var_dir, ignore_errors=True)
