"""Pytest fixtures giving tests a real PostgreSQL and real brokers (Tansu, Apache Kafka).

``embedded_pg``   -- one PostgreSQL cluster per test session (temporary directory)
``kafka_broker``  -- one Tansu broker per test session (``.restart()`` empties it)
``real_kafka``    -- one Apache Kafka (KRaft) per test session, started on first use
                     (``.restart()`` and ``.kill()`` + ``.start()`` keep its log)
``any_broker``    -- parametrized: the test runs once on Tansu (id ``tansu``) and once on
                     Kafka (id ``kafka``)
``service_database(name, script_location)`` -- a migrated database; returns (owner_url, app_url)
``schema_drift(metadata, script_location)`` -- what a freshly migrated database has that
                     ``metadata`` does not say, and the reverse (``kepu_common.tables.drift``)
``keycloak_server`` -- one real Keycloak per test session; ``keycloak_realm`` -- a fresh realm
``ENGINES`` -- pytest params for a stack fixture that runs on the embedded and the real engines

Markers: a test that uses none of these engines (through any fixture) is marked ``unit``
(pure domain and format rules; ``make unit`` runs only those, with no PostgreSQL or
broker); every other one ``integration``, unless it is ``e2e``. A test that starts
engines without these fixtures says so with ``@pytest.mark.integration``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .broker import EmbeddedBroker
from .kafka import Broker, KafkaServer
from .keycloak import KeycloakServer
from .ports import free_port
from .postgres import EmbeddedPostgres, provision_database
from .stack import Stack

if TYPE_CHECKING:
    from sqlalchemy import MetaData

ENGINE_FIXTURES = frozenset(
    {
        "embedded_pg",
        "kafka_broker",
        "real_kafka",
        "any_broker",
        "service_database",
        "schema_drift",
        "keycloak_server",
        "keycloak_realm",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "unit: needs no PostgreSQL, broker or Keycloak")
    config.addinivalue_line("markers", "integration: runs against the real engines")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e") or item.get_closest_marker("integration"):
            continue
        engines = ENGINE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        item.add_marker(pytest.mark.integration if engines else pytest.mark.unit)


@contextmanager
def fresh_stack(engines: str = "embedded", *, durable_pg: bool = False) -> Iterator[Stack]:
    """A whole platform on free ports in a throw-away directory (end-to-end tests).

    Its PostgreSQL runs without fsync unless ``durable_pg`` (the fault tests kill it).

    ``engines="real"`` runs the production engines: Keycloak and Apache Kafka
    (``KEPU_IDP=keycloak KEPU_BROKER=kafka``) instead of the embedded provider and Tansu;
    ``engines="kafka"`` only the broker (``KEPU_BROKER=kafka``: the broker fault tests).
    """
    # Not under pytest's basetemp: a concurrent pytest run may prune those directories.
    var_dir = Path(tempfile.mkdtemp(prefix="kepu-stack-"))
    # The reporting service reads "now" from this file when it exists (tests play a month).
    env = {"REPORTING_CLOCK_FILE": str(var_dir / "reporting_clock")}
    # The tests' webhook receivers listen on loopback: allowed explicitly, as an operator
    # allows an on-premise bank (by default webhooks reach public addresses only).
    env["WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.0/8,::1"
    if engines == "real":
        env.update(KEPU_IDP="keycloak", KEPU_BROKER="kafka")
    elif engines == "kafka":
        env.update(KEPU_BROKER="kafka")
    s = Stack(var_dir=var_dir, extra_env=env, durable_pg=durable_pg)
    try:
        s.start()
        s.supervise()
        yield s
    finally:
        s.stop()
        if not os.environ.get("KEPU_KEEP_STACK"):
            shutil.rmtree(var_dir, ignore_errors=True)


# A module-scoped ``stack`` fixture with ``params=ENGINES`` runs its module twice: on the
# embedded engines (fast) and on Keycloak + Apache Kafka (``request.param == "real"``).
ENGINES = [pytest.param("embedded", id="embedded"), pytest.param("real", id="keycloak-kafka")]


@pytest.fixture(scope="session")
def embedded_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    # Not under pytest's basetemp: a concurrent pytest run may prune those directories.
    base = Path(os.environ.get("KEPU_TEST_TMP") or tempfile.mkdtemp(prefix="kepu-pg-"))
    # Throw-away cluster: durability off for speed, explicitly (make run keeps it on).
    server = EmbeddedPostgres(base / f"pgdata-{uuid.uuid4().hex[:8]}", durable=False)
    server.start()
    yield server
    server.stop()
    if not os.environ.get("KEPU_TEST_TMP"):
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker()
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def real_kafka() -> Iterator[KafkaServer]:
    # Not under pytest's basetemp: a concurrent pytest run may prune those directories.
    base = Path(tempfile.mkdtemp(prefix="kepu-kafka-"))
    server = KafkaServer(base)
    server.start()
    yield server
    server.stop()
    if not os.environ.get("KEPU_KEEP_KAFKA"):
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session", params=["tansu", "kafka"])
def any_broker(request: pytest.FixtureRequest) -> Broker:
    """Tansu (``kafka_broker``) or Apache Kafka (``real_kafka``): a test taking this runs on both.

    A Tansu restart forgets everything and a Kafka restart keeps its log; mechanisms and
    tests must be right either way.
    """
    broker: Broker = request.getfixturevalue(
        "kafka_broker" if request.param == "tansu" else "real_kafka"
    )
    return broker


@pytest.fixture(scope="session")
def service_database(embedded_pg: EmbeddedPostgres) -> Callable[[str, Path], tuple[str, str]]:
    from kepu_common.migrations import upgrade

    created: dict[str, tuple[str, str]] = {}

    def make(name: str, script_location: Path) -> tuple[str, str]:
        key = f"{name}:{script_location}"
        if key not in created:
            dbname = f"{name}_{uuid.uuid4().hex[:6]}"
            owner_url, app_url = provision_database(embedded_pg.superuser_url(), dbname)
            upgrade(script_location, owner_url)
            created[key] = (owner_url, app_url)
        return created[key]

    return make


@pytest.fixture(scope="session")
def schema_drift(
    service_database: Callable[[str, Path], tuple[str, str]],
) -> Callable[[MetaData, Path], list[str]]:
    """The differences between ``metadata`` and a database migrated by ``script_location``."""
    from kepu_common.db import make_engine
    from kepu_common.tables import drift

    def compare(metadata: MetaData, script_location: Path) -> list[str]:
        owner_url, _app_url = service_database("models", script_location)
        engine = make_engine(owner_url)
        try:
            with engine.connect() as conn:
                return drift(conn, metadata)
        finally:
            engine.dispose()

    return compare


@pytest.fixture(scope="session")
def keycloak_server(embedded_pg: EmbeddedPostgres) -> Iterator[KeycloakServer]:
    """One real Keycloak per test session, its database on ``embedded_pg`` (20-60 s to start).

    Its public URL is a placeholder gateway; tests reach it directly (``.url``).
    """
    base = Path(tempfile.mkdtemp(prefix="kepu-keycloak-"))
    server = KeycloakServer(
        base,
        pg_superuser_url=embedded_pg.superuser_url(),
        public_url=f"http://127.0.0.1:{free_port()}/auth",
        admin_password="Kc-admin-" + uuid.uuid4().hex[:12],
        database=f"keycloak_{uuid.uuid4().hex[:6]}",
    )
    server.start()
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def keycloak_realm(keycloak_server: KeycloakServer) -> Iterator[str]:
    """A fresh realm built from ``kepu_identity.realm`` (the one the chart imports); its name."""
    from kepu_identity.realm import realm_representation

    name = f"kepu-{uuid.uuid4().hex[:8]}"
    keycloak_server.import_realm(realm_representation(realm=name))
    yield name
    keycloak_server.admin("master").delete_realm(name)
