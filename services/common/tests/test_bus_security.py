"""Kafka security settings from the environment the chart sets (kepu_common.bus)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kepu_common.bus import security_settings


def test_plaintext_by_default_adds_nothing() -> None:
    assert security_settings({}) == {}
    assert security_settings({"KAFKA_SECURITY_PROTOCOL": "plaintext"}) == {}


def test_sasl_ssl_reads_the_password_from_its_file(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("s3cr3t-from-strimzi\n")  # as mounted from the KafkaUser's Secret
    settings = security_settings(
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_SASL_USERNAME": "kepu-talent",
            "KAFKA_SASL_PASSWORD_FILE": str(password),
            "KAFKA_SSL_CAFILE": "/var/run/kepu/kafka-ca/ca.crt",
        }
    )
    assert settings == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "kepu-talent",
        "sasl_plain_password": "s3cr3t-from-strimzi",
        "ssl_cafile": "/var/run/kepu/kafka-ca/ca.crt",
    }


def test_sasl_without_a_password_file_fails_at_start() -> None:
    with pytest.raises(KeyError, match="KAFKA_SASL_PASSWORD_FILE"):
        security_settings({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u"})
