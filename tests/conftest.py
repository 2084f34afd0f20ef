"""Shared fixtures of the end-to-end tests: one whole stack per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from kepu_devstack.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = Path(os.environ.get("KEPU_E2E_VAR_DIR") or tmp_path_factory.mktemp("stack"))
    s = Stack(var_dir=var_dir)
    try:
        s.start()
    except Exception:
        s.stop()
        raise
    yield s
    s.stop()
