"""Shared fixtures of the end-to-end tests: one whole stack per test session and engine set.

The session's stack runs on the embedded engines and then on the production engines
(Keycloak + Apache Kafka), so every module using it runs on both; ``KEPU_E2E_ENGINES``
(``embedded``, ``real`` or ``both``, the default) narrows that for a quick local run.
A test module that needs a pristine platform (no credentials distributed yet) overrides
``stack`` at module scope with ``kepu_devstack.pytest_plugin.fresh_stack()``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from kepu_devstack.pytest_plugin import ENGINES, fresh_stack
from kepu_devstack.stack import Stack


def _engine_params() -> list[Any]:
    wanted = os.environ.get("KEPU_E2E_ENGINES", "both")
    return [p for p in ENGINES if wanted == "both" or p.values[0] == wanted]


@pytest.fixture(scope="session", params=_engine_params())
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    with fresh_stack(request.param) as s:
        yield s
