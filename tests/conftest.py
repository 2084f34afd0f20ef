"""Shared fixtures of the end-to-end tests: one whole stack per test session.

A test module that needs a pristine platform (no credentials distributed yet) overrides
``stack`` at module scope with ``kepu_devstack.pytest_plugin.fresh_stack()``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kepu_devstack.pytest_plugin import fresh_stack
from kepu_devstack.stack import Stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with fresh_stack() as s:
        yield s
