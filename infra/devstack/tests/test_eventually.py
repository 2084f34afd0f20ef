"""The one polling helper of the end-to-end tests."""

from __future__ import annotations

import time

import pytest
from kepu_devstack.e2e import eventually


def test_eventually_returns_what_the_condition_found_once_it_holds():
    calls = []

    def found() -> list[int]:
        calls.append(1)
        return [42] if len(calls) >= 3 else []

    assert eventually(found, "the third try", timeout=10, every=0.01) == [42]
    assert len(calls) == 3


def test_eventually_fails_naming_what_never_happened_within_its_bound():
    started = time.monotonic()
    with pytest.raises(AssertionError, match="never happened: the report arrives"):
        eventually(lambda: None, "the report arrives", timeout=0.2, every=0.05)
    assert time.monotonic() - started < 5
