"""The chart's Kafka security, on a real Apache Kafka: TLS + SCRAM-SHA-512 + the KafkaUser's ACLs.

An Apache Kafka 4.1 broker (kepu_devstack's Maven-fetched class path) gets what Strimzi
configures from charts/kepu: a SASL_SSL listener with SCRAM-SHA-512 (a certificate from a
test CA, the CA given to the clients as a file, as the chart mounts the cluster CA), the
StandardAuthorizer, and the ACLs of the rendered KafkaUser ``kepu-talent``, with talent's
SCRAM credential. Talent's own client code (kepu_common.bus, consumer) then runs with the
settings ``security_settings`` reads from the environment the chart sets. Stood in for:
Strimzi itself (the test writes the broker configuration, the SCRAM credential and the
ACLs that the cluster and user operators would), and a plaintext listener for the test's
administrator (the super user that plays the operators).
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RELEASE, Rendered
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError
from kepu_common import bus
from kepu_devstack.kafka import KafkaServer, server_properties
from kepu_devstack.ports import free_port

USER = f"{RELEASE}-talent"
PASSWORD = uuid.uuid4().hex


def _certificates(folder: Path) -> tuple[Path, str, str]:
    """A CA (its PEM file, as the chart mounts ca.crt) and a broker key + chain for 127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kepu test cluster CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kepu-kafka")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file = folder / "ca.crt"
    ca_file.write_bytes(ca.public_bytes(pem))
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    chain_pem = (cert.public_bytes(pem) + ca.public_bytes(pem)).decode()
    return ca_file, key_pem, chain_pem


def _property(value: str) -> str:
    """A multi-line PEM as one java.util.Properties value."""
    return value.strip().replace("\n", "\\n")


class SecuredKafka(KafkaServer):
    """KafkaServer with Strimzi's client listener added: SASL_SSL, SCRAM-SHA-512, ACLs on.
    ``bootstrap`` stays the plaintext listener of the super user (the operators' part)."""

    def __init__(self, data_dir: Path, key_pem: str, chain_pem: str) -> None:
        super().__init__(data_dir)
        self.secure_port = free_port()
        self.key_pem, self.chain_pem = key_pem, chain_pem

    def _write_config(self) -> Path:
        config = super()._write_config()
        base = server_properties(
            port=self.port, controller_port=self.controller_port, log_dir=self.log_dir
        )
        settings = dict(line.split("=", 1) for line in base.splitlines() if line)
        settings.update(
            {
                "listeners": f"PLAINTEXT://127.0.0.1:{self.port},SASL_SSL://127.0.0.1:{self.secure_port},"
                f"CONTROLLER://127.0.0.1:{self.controller_port}",
                "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port},"
                f"SASL_SSL://127.0.0.1:{self.secure_port}",
                "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,"
                "CONTROLLER:PLAINTEXT",
                "sasl.enabled.mechanisms": "SCRAM-SHA-512",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;"
                ),
                "ssl.keystore.type": "PEM",
                "ssl.keystore.key": _property(self.key_pem),
                "ssl.keystore.certificate.chain": _property(self.chain_pem),
                "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                # The plaintext listener and the controller are the operators' (ANONYMOUS).
                "super.users": "User:ANONYMOUS",
                "allow.everyone.if.no.acl.found": "false",
            }
        )
        config.write_text("".join(f"{k}={v}\n" for k, v in settings.items()), encoding="utf-8")
        return config

    def _format_once(self, config: Path) -> None:
        if (self.log_dir / "meta.properties").exists():
            return
        with open(self.log_path, "ab") as out:
            subprocess.run(
                self._java(
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    uuid.uuid4().hex[:22],
                    "-c",
                    str(config),
                    # What the User Operator stores for a scram-sha-512 KafkaUser.
                    "--add-scram",
                    f"SCRAM-SHA-512=[name={USER},password={PASSWORD}]",
                ),
                stdout=out,
                stderr=out,
                check=True,
            )


def _acls_of(user: dict[str, Any]) -> list[ACL]:
    """The rendered KafkaUser's rules as Kafka ACLs (what Strimzi's User Operator writes)."""
    out = []
    for rule in user["spec"]["authorization"]["acls"]:
        r = rule["resource"]
        pattern = ResourcePattern(
            ResourceType[r["type"].upper()],
            r["name"],
            ACLResourcePatternType["PREFIXED" if r.get("patternType") == "prefix" else "LITERAL"],
        )
        for op in rule["operations"]:
            name = {"DescribeConfigs": "DESCRIBE_CONFIGS"}.get(op, op.upper())
            out.append(
                ACL(
                    f"User:{user['metadata']['name']}",
                    rule.get("host", "*"),
                    ACLOperation[name],
                    ACLPermissionType.ALLOW,
                    pattern,
                )
            )
    return out


@pytest.fixture(scope="module")
def secured(umbrella: Rendered) -> Iterator[tuple[SecuredKafka, Path]]:
    base = Path(tempfile.mkdtemp(prefix="kepu-kafka-scram-"))
    ca_file, key_pem, chain_pem = _certificates(base)
    server = SecuredKafka(base / "kafka", key_pem, chain_pem)
    server.start()  # waits on the plaintext listener, creates the event topics there
    try:
        admin = KafkaAdminClient(bootstrap_servers=server.bootstrap)
        acls = _acls_of(umbrella.named("KafkaUser", USER))
        result = admin.create_acls(acls)
        assert not result["failed"], result["failed"]
        # The controller commits them; the broker's authorizer applies them a moment later.
        everything = ACLFilter(
            principal=f"User:{USER}",
            host=None,
            operation=ACLOperation.ANY,
            permission_type=ACLPermissionType.ANY,
            resource_pattern=ResourcePatternFilter(
                ResourceType.ANY, None, ACLResourcePatternType.ANY
            ),
        )
        deadline = time.monotonic() + 30
        while len(admin.describe_acls(everything)[0]) < len(acls):
            assert time.monotonic() < deadline, "the broker did not apply the ACLs"
            time.sleep(0.2)
        admin.close()
        yield server, ca_file
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def as_talent(
    secured: tuple[SecuredKafka, Path],
    umbrella: Rendered,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[], str]:
    """Talent's client settings from the environment the chart gives its pods."""
    server, ca_file = secured
    (c,) = umbrella.named("Deployment", f"{RELEASE}-talent-worker")["spec"]["template"]["spec"][
        "containers"
    ]
    env = {
        e["name"]: e["value"] for e in c["env"] if e["name"].startswith("KAFKA_") and "value" in e
    }
    password_file = tmp_path / "password"  # the mounted Secret kepu-talent, key password
    password_file.write_text(PASSWORD)
    env |= {"KAFKA_SASL_PASSWORD_FILE": str(password_file), "KAFKA_SSL_CAFILE": str(ca_file)}
    for key, value in bus.security_settings(env).items():
        monkeypatch.setitem(bus.CLIENT_SETTINGS, key, value)
    return lambda: f"127.0.0.1:{server.secure_port}"


def test_talent_publishes_its_events_over_tls_with_scram(as_talent: Callable[[], str]) -> None:
    bootstrap = as_talent()
    assert bus.CLIENT_SETTINGS["security_protocol"] == "SASL_SSL"
    bus.ensure_topics(bootstrap, ["talent.events", "talent.events.dlq"])
    producer = bus.make_producer(bootstrap)
    try:
        metadata = producer.send("talent.events", value=b"talent.recommended").get(15)
        assert metadata.topic == "talent.events"
        assert bus.BrokerEpoch(bootstrap).current()  # every relay reads (or founds) the epoch
    finally:
        producer.close()


def test_talent_cannot_write_another_services_topic(as_talent: Callable[[], str]) -> None:
    producer = bus.make_producer(as_talent())
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send("identity.events", value=b"forged tenant event").get(15)
    finally:
        producer.close()


def test_talent_reads_what_it_consumes_in_its_own_group_only(
    as_talent: Callable[[], str], secured: tuple[SecuredKafka, Path]
) -> None:
    server, _ = secured
    from kafka import KafkaProducer

    plain = KafkaProducer(bootstrap_servers=server.bootstrap)  # identity's relay, as it were
    plain.send("identity.events", value=b"tenant.created").get(15)
    plain.close()
    bootstrap = as_talent()

    def consume(group: str) -> list[bytes]:
        consumer = KafkaConsumer(
            "identity.events",
            bootstrap_servers=bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            consumer_timeout_ms=8000,
            **bus.CLIENT_SETTINGS,
        )
        try:
            return [bytes(r.value) for r in consumer]
        finally:
            consumer.close()

    assert b"tenant.created" in consume("talent.tenants")
    with pytest.raises(GroupAuthorizationFailedError):
        consume("identity.audit_feed")  # another service's consumer group


def test_talent_cannot_read_a_topic_it_does_not_consume(as_talent: Callable[[], str]) -> None:
    consumer = KafkaConsumer(
        bootstrap_servers=as_talent(), group_id="talent.snoop", **bus.CLIENT_SETTINGS
    )
    try:
        # Topics talent may not describe are invisible to it.
        visible = consumer.topics()
        assert "identity.events" in visible and "reporting.events" not in visible
    finally:
        consumer.close()


def test_a_wrong_password_is_refused(secured: tuple[SecuredKafka, Path], tmp_path: Path) -> None:
    server, ca_file = secured
    wrong = tmp_path / "password"
    wrong.write_text("not-the-password")
    settings = bus.security_settings(
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_SASL_USERNAME": USER,
            "KAFKA_SASL_PASSWORD_FILE": str(wrong),
            "KAFKA_SSL_CAFILE": str(ca_file),
        }
    )
    with pytest.raises(KafkaError):
        KafkaAdminClient(
            bootstrap_servers=f"127.0.0.1:{server.secure_port}",
            bootstrap_timeout_ms=5000,
            **settings,
        ).list_topics()
