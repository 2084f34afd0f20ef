"""Kill one kind of part mid-load on the embedded stack (Tansu), and nobody lifts a finger
(issue 11 item 7).

One part at a time is SIGKILLed: a service's serve process, a relay and a worker, the broker,
PostgreSQL; the launcher's supervisor restarts it. ``fault_load.survive`` holds the load and
the promises (every acknowledged write readable, every effect once, only 503/504 while down,
recovery by itself) and records the figures the terminal summary prints.

The stack's PostgreSQL is durable here (``durable_pg=True``): the fault is a crash, not a test
cluster that was told it may lose commits.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fault_load import (
    Kill,
    city_client,
    kill_broker,
    kill_postgres,
    kill_process,
    kill_relay_and_worker,
    survive,
)
from kepu_devstack.pytest_plugin import fresh_stack
from kepu_devstack.stack import Stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with fresh_stack(durable_pg=True) as s:
        yield s


@pytest.fixture(scope="module")
def city(stack: Stack) -> httpx.Client:
    return city_client(stack)


SCENARIOS: dict[str, Kill] = {
    "serve": lambda s: kill_process(s, "reporting-serve"),
    "relay+worker": kill_relay_and_worker,
    "broker": kill_broker,
    "postgresql": kill_postgres,
}


@pytest.mark.parametrize("part", list(SCENARIOS))
def test_a_killed_part_loses_nothing_and_recovers_by_itself(stack, city, part):
    survive(stack, city, f"tansu {part}", SCENARIOS[part])
