"""The same kills on the production broker: Apache Kafka (``KEPU_BROKER=kafka``), its log on
disk (issue 11 item 7, "on the real engines").

A Kafka restart keeps every message and every committed offset, where a Tansu restart forgets
them, so the consumers' path back is a different one: the restarted broker recovers its log,
the controller fences the dead broker's registration, the group coordinator reloads the groups
and the static members rejoin. Killed here: the broker itself (SIGKILL, restarted by the
launcher's supervisor), and reporting's relay (a producer that resends the outbox's unsent
rows) with assessment's worker (a consumer group member that comes back with the same
``group_instance_id``). Sign-in stays on the embedded provider: Keycloak is another
part with its own tests, and would add a minute and a JVM to a suite that measures the broker.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fault_load import Kill, city_client, kill_broker, kill_relay_and_worker, survive
from kepu_devstack.pytest_plugin import fresh_stack
from kepu_devstack.stack import Stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with fresh_stack("kafka", durable_pg=True) as s:
        yield s


@pytest.fixture(scope="module")
def city(stack: Stack) -> httpx.Client:
    return city_client(stack)


SCENARIOS: dict[str, Kill] = {
    "broker": kill_broker,
    "relay+worker": kill_relay_and_worker,
}


@pytest.mark.parametrize("part", list(SCENARIOS))
def test_a_killed_part_loses_nothing_and_recovers_by_itself_on_kafka(stack, city, part):
    survive(stack, city, f"kafka {part}", SCENARIOS[part])
